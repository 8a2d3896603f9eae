import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { DEMO_CLIENTS } from '../../../src/auth/clients';
import { receiverPort } from '../../../scripts/demo-gp-receiver';
import { demoDirectory } from '../../../scripts/demo-setup';
import { formatSummary, summariseMessage } from '../../../scripts/message-summary';

/** The demo's moving parts: the receiver's port, the templated directory, the clients file, the summary. */
describe('the demo', () => {
  it('takes the receiver port from --port, else DEMO_RECEIVER_PORT, else 8090', () => {
    expect(receiverPort([], {})).toBe(8090);
    expect(receiverPort([], { DEMO_RECEIVER_PORT: '9191' })).toBe(9191);
    expect(receiverPort(['--port', '9292'], { DEMO_RECEIVER_PORT: '9191' })).toBe(9292);
    expect(receiverPort(['--port=9393'], {})).toBe(9393);
    expect(() => receiverPort(['--port', 'x'], {})).toThrow(/port/);
  });

  it("puts the receiver's address into every directory endpoint, without rewriting the example file", () => {
    const before = readFileSync(join(__dirname, '../../../examples/directory.json'), 'utf8');
    const bundle = demoDirectory('http://127.0.0.1:9999') as Bundle;
    const addresses = (bundle.entry ?? [])
      .map((e) => e.resource)
      .filter((r) => r?.resourceType === 'Endpoint')
      .map((r) => (r as unknown as { address: string }).address);
    expect(addresses.length).toBeGreaterThanOrEqual(3);
    expect(addresses.every((a) => a.startsWith('http://127.0.0.1:9999'))).toBe(true);
    expect(JSON.stringify(bundle)).not.toContain('localhost:8090');
    expect(readFileSync(join(__dirname, '../../../examples/directory.json'), 'utf8')).toBe(before);
  });

  it('has every demo client in examples/clients.json', () => {
    const file = JSON.parse(readFileSync(join(__dirname, '../../../examples/clients.json'), 'utf8')) as Array<{
      id: string;
      role: string;
      organization: unknown;
    }>;
    for (const c of DEMO_CLIENTS) {
      expect(file.find((f) => f.id === c.id)).toMatchObject({ role: c.role, organization: c.organization });
    }
  });

  it('summarises a message: kind, sender, sections, answers and what was withheld', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'message',
      entry: [
        {
          resource: {
            resourceType: 'MessageHeader',
            eventCoding: { code: 'status-report', display: 'Status report' },
            sender: { display: 'Lægerne på Torvet' },
            source: { endpoint: 'http://gw/fhir' },
          },
        },
        {
          resource: {
            resourceType: 'QuestionnaireResponse',
            status: 'completed',
            meta: { security: [{ code: 'REDACTED' }] },
            text: {
              status: 'generated',
              div: '<div xmlns="http://www.w3.org/1999/xhtml">Udeladt efter samtykke: diagnosis</div>',
            },
            item: [{ linkId: 'treatment', answer: [{ valueString: 'Samtaleterapi.' }] }],
          },
        },
      ],
    } as unknown as Bundle;
    const summary = summariseMessage(bundle);
    expect(summary).toMatchObject({ kind: 'Status report', sender: 'Lægerne på Torvet', answers: ['treatment'] });
    const text = formatSummary(summary, '/jobcentre/$process-message', new Date('2026-11-29T10:00:00Z'));
    expect(text).toContain('/jobcentre/$process-message: Status report from Lægerne på Torvet');
    expect(text).toContain('answers: treatment');
    expect(text).toContain('withheld: Udeladt efter samtykke: diagnosis');
    // Names and codes only: the answer's text is not printed.
    expect(text).not.toContain('Samtaleterapi');
  });
});
