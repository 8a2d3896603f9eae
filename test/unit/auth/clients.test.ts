import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey } from '../../../src/auth/api-key-hash';
import { createClientRegistry, DEMO_CLIENTS, loadClients } from '../../../src/auth/clients';

const file = (content: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'clients-')), 'clients.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const client = {
  id: 'ehr-1',
  apiKey: 'a-long-enough-api-key',
  role: 'hospital',
  organization: { system: 'urn:oid:1.2.208.176.1.1', value: '123' },
};

describe('gateway clients', () => {
  it('finds a client by its plain API key (outside production) and no one by another', async () => {
    const registry = loadClients(file([client]), false);
    expect(await registry.byApiKey('a-long-enough-api-key')).toMatchObject({ id: 'ehr-1', role: 'hospital' });
    expect(await registry.byApiKey('a-long-enough-api-kez')).toBeUndefined();
    expect(await registry.byApiKey('a-long-enough-api-key')).not.toHaveProperty('apiKey');
  });

  it('stores keys hashed: the file holds no key, and a client may hold two at once for rotation', async () => {
    const [current, next] = ['the-current-key-of-ehr-1', 'the-successor-key-of-ehr-1'];
    const rest = { id: client.id, role: client.role, organization: client.organization };
    const path = file([{ ...rest, apiKeyHashes: [await hashApiKey(current), await hashApiKey(next)] }]);
    expect(readFileSync(path, 'utf8')).not.toContain(current);
    const registry = loadClients(path, true);
    expect(await registry.byApiKey(current)).toMatchObject({ id: 'ehr-1' });
    expect(await registry.byApiKey(next)).toMatchObject({ id: 'ehr-1' });
    expect(await registry.byApiKey('the-current-key-of-ehr-2')).toBeUndefined();
    expect(registry.byVerifiedApiKey(current)).toMatchObject({ id: 'ehr-1' });
    expect(registry.byVerifiedApiKey('the-current-key-of-ehr-2')).toBeUndefined();
  });

  it('refuses a plain API key in the clients file in production, and a third key', async () => {
    expect(() => loadClients(file([client]), true)).toThrow(/plain text.*hash-key/);
    const three = await Promise.all(['k1', 'k2', 'k3'].map((k) => hashApiKey(`${k}-long-enough-key`)));
    const rest = { id: client.id, role: client.role, organization: client.organization };
    expect(() => loadClients(file([{ ...rest, apiKeyHashes: three }]), true)).toThrow(/GATEWAY_CLIENTS_FILE/);
    expect(() => loadClients(file([{ ...rest, apiKeyHashes: ['sha256:abc'] }]), true)).toThrow(/GATEWAY_CLIENTS_FILE/);
  });

  it('keeps examples/clients.json hashed, with every demo client, each of whose demo key opens it', async () => {
    const path = join(__dirname, '..', '..', '..', 'examples', 'clients.json');
    const text = readFileSync(path, 'utf8');
    const registry = loadClients(path, true);
    for (const demo of DEMO_CLIENTS) {
      expect(text).not.toContain(demo.apiKey);
      expect(await registry.byApiKey(demo.apiKey)).toMatchObject({ id: demo.id, role: demo.role });
    }
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
    expect(() => loadClients(file(content), false)).toThrow(/GATEWAY_CLIENTS_FILE/);
  });

  it('refuses two clients sharing a key', () => {
    expect(() => createClientRegistry([client, { ...client, id: 'ehr-2' }] as never)).toThrow(/share an API key/);
  });
});
