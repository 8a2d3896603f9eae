import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { DEMO_CLIENTS } from '../../src/auth/clients';
import { startTestGateway } from '../helpers/test-gateway';

/**
 * Start-up tells an operator what is happening: progress lines, a loud warning while the published demo keys
 * work, and API documentation whose "Try it out" calls this gateway rather than a hard-coded localhost:8080.
 */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as (typeof lines)[number]);
      },
    },
  );
  return { logger, lines };
}

describe('start-up', () => {
  it('logs its progress and warns loudly when the demo keys are active', async () => {
    const { logger, lines } = capturingLogger();
    const t = await startTestGateway({ overrides: { logger, clients: undefined } });
    try {
      const warning = lines.find((l) => l.level === 40 && /DEMO API KEYS ARE ACTIVE/.test(l.msg));
      expect(warning).toBeDefined();
      expect(warning?.clients).toEqual(DEMO_CLIENTS.map((c) => c.id));
      const progress = lines.filter((l) => l.level === 30).map((l) => l.msg);
      expect(progress).toEqual(
        expect.arrayContaining([
          'starting: opening the database',
          'FHIR R4 definitions and profiles loaded',
          'queues, workers and HTTP routes ready',
        ]),
      );
      expect(lines.find((l) => l.msg === 'FHIR R4 definitions and profiles loaded')?.ms).toEqual(expect.any(Number));
    } finally {
      await t.close();
    }
  });

  it('does not warn when a clients file is configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sektorbro-clients-'));
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify(DEMO_CLIENTS.filter((c) => c.role !== 'admin')));
    const { logger, lines } = capturingLogger();
    const t = await startTestGateway({ env: { GATEWAY_CLIENTS_FILE: file }, overrides: { logger } });
    try {
      expect(lines.filter((l) => /DEMO API KEYS/.test(l.msg))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('points /docs "Try it out" at the public base URL', async () => {
    const t = await startTestGateway({ env: { PUBLIC_BASE_URL: 'https://sektorbro.example.dk:9443' } });
    try {
      const init = await request(t.gateway.app).get('/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      const servers = /"servers":\s*(\[[^\]]*\])/.exec(init.text)?.[1];
      expect(JSON.parse(servers ?? '[]')).toEqual([
        { url: 'https://sektorbro.example.dk:9443', description: 'This gateway' },
      ]);
    } finally {
      await t.close();
    }
  });
});
