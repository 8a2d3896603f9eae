import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientRegistry, DEMO_CLIENTS, loadClients } from '../../../src/auth/clients';

const file = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'clients-')), 'clients.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const client = { id: 'ehr-1', apiKey: 'a-long-enough-api-key', role: 'hospital', organization: { system: 'urn:oid:1.2.208.176.1.1', value: '123' } };

describe('gateway clients', () => {
  it('finds a client by its API key and no one by another', () => {
    const registry = loadClients(file([client]), true);
    expect(registry.byApiKey('a-long-enough-api-key')).toMatchObject({ id: 'ehr-1', role: 'hospital' });
    expect(registry.byApiKey('a-long-enough-api-kez')).toBeUndefined();
    expect(registry.byApiKey('a-long-enough-api-key')).not.toHaveProperty('apiKey');
  });

  it('has demo clients only outside production and only without a file', () => {
    expect(loadClients(undefined, false).size).toBe(DEMO_CLIENTS.length);
    expect(() => loadClients(undefined, true)).toThrow(/GATEWAY_CLIENTS_FILE/);
  });

  it.each([
    ['unreadable JSON', '{nope'],
    ['an unknown role', [{ ...client, role: 'insurer' }]],
    ['a short API key', [{ ...client, apiKey: 'short' }]],
    ['a missing organization', [{ id: 'x', apiKey: 'a-long-enough-api-key', role: 'gp' }]],
  ])('refuses a clients file with %s, naming the file', (_name, content) => {
    expect(() => loadClients(file(content), true)).toThrow(/GATEWAY_CLIENTS_FILE/);
  });

  it('refuses two clients sharing a key', () => {
    expect(() => createClientRegistry([client, { ...client, id: 'ehr-2' }] as never)).toThrow(/share an API key/);
  });
});
