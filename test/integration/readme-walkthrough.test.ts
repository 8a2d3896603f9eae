import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Bundle, QuestionnaireResponse } from 'fhir/r4';
import { startMessageReceiver, type MessageReceiver } from '../../scripts/fhir-message-receiver';
import { eventually, startTestGateway, type TestGateway } from '../helpers/test-gateway';

/**
 * The README's curl walk-through, run as written: its `sh` blocks are read from README.md, the gateway's
 * http://localhost:8080 becomes a test gateway on a free port, `npm run demo:setup` runs with the loopback
 * receiver's port, `<id>` and `<deliveryId>` are filled in as the README says, and each command is run by
 * bash with the real curl against real HTTP. Each step's outcome is checked, including the jobcentre's
 * minimised answer (no current-health) and the employer's copy.
 */
const ROOT = join(__dirname, '..', '..');
const run = promisify(execFile);

interface Step {
  command: string;
  /** As run: ports and ids filled in. */
  filled?: string;
  status?: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
}

/** The commands of the walk-through's sh blocks, with continuation lines joined and trailing comments cut. */
function walkthroughCommands(readme: string): string[] {
  const start = readme.indexOf('## Walk-through with curl');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end);
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap((block) =>
    block
      .split('\n')
      .map((l) => l.trim())
      .join('\n')
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s+#\s[^'"]*$/, '').trim())
      .filter((l) => l !== ''),
  );
}

describe('the README walk-through, as written', () => {
  let t: TestGateway;
  let receiver: MessageReceiver;
  let server: Server;
  let gatewayUrl: string;
  const steps: Step[] = [];

  beforeAll(async () => {
    receiver = await startMessageReceiver({ host: '127.0.0.1' });
    t = await startTestGateway();
    server = t.gateway.app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.close();
    await t?.close();
    await receiver?.close();
  });

  let lastPostId: string | undefined;
  let lastDeliveryId: string | undefined;

  async function execute(command: string): Promise<Step> {
    if (command.startsWith('npm run demo:setup')) {
      const { stdout } = await run('npm', ['run', '--silent', 'demo:setup'], {
        cwd: ROOT,
        env: {
          ...process.env,
          GATEWAY_URL: gatewayUrl,
          DEMO_RECEIVER_PORT: new URL(receiver.url).port,
          DEMO_RECEIVER_HOST: '127.0.0.1',
        },
      });
      return { command, headers: {}, body: undefined, text: stdout };
    }
    if (command.startsWith('npm run demo:reply')) {
      const { stdout } = await run('npm', ['run', '--silent', 'demo:reply', '--', lastDeliveryId ?? '<deliveryId>'], {
        cwd: ROOT,
        env: { ...process.env, GATEWAY_URL: gatewayUrl },
      });
      return { command, headers: {}, body: undefined, text: stdout };
    }
    const filled = command
      .replaceAll('http://localhost:8080', gatewayUrl)
      .replaceAll('<id>', lastPostId ?? '<id>')
      .replaceAll('<deliveryId>', lastDeliveryId ?? '<deliveryId>');
    // -w appends the status on its own line, so every command's outcome is known even without -i.
    const { stdout } = await run('bash', ['-c', `${filled} -w '\\n%{http_code}'`], { cwd: ROOT });
    const lines = stdout.split('\n');
    const status = Number(lines.pop());
    let text = lines.join('\n');
    const headers: Record<string, string> = {};
    if (/ -i /.test(command)) {
      const [head = '', ...rest] = text.split(/\r\n\r\n/);
      for (const line of head.split('\r\n').slice(1)) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      text = rest.join('\r\n\r\n');
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const asObject = body as { id?: string; items?: Array<{ deliveries?: Array<{ id: string }> }> } | undefined;
    if (/-X POST/.test(command) && typeof asObject?.id === 'string') {
      lastPostId = asObject.id;
    }
    const firstDelivery = asObject?.items?.[0]?.deliveries?.[0]?.id;
    if (firstDelivery) {
      lastDeliveryId = firstDelivery;
    }
    return { command, filled, status, headers, body, text };
  }

  it('runs every step with the outcome the README promises', async () => {
    const commands = walkthroughCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    // The receiver and the gateway are this test's own; everything else runs as written.
    const runnable = commands.filter((c) => !c.startsWith('npm run demo:receiver') && !c.startsWith('npm start'));
    expect(runnable.length).toBeGreaterThanOrEqual(12);
    for (const command of runnable) {
      steps.push(await execute(command));
    }
    const step = (pattern: RegExp, nth = 0) => {
      const found = steps.filter((s) => pattern.test(s.command))[nth];
      if (!found) {
        throw new Error(`no README step matches ${String(pattern)}`);
      }
      return found;
    };

    // 1. Directory and consents.
    expect(step(/^npm run demo:setup/).text).toMatch(/directory loaded[\s\S]*jobcentre[\s\S]*employer/);

    // 2. The letter: 202 with a Location, delivered to the receiver's root path.
    const letter = step(/discharge-letters/);
    expect(letter.status).toBe(202);
    const letterId = (letter.body as { id: string }).id;
    expect(letter.headers.location).toBe(`/messages/${letterId}`);
    await eventually(
      () => Promise.resolve(receiver.received.some((m) => m.path.startsWith('/$process-message')) ? true : undefined),
      60000,
      'the letter at the GP',
    );

    // 3. Tracking by the sender, and the GP's inbox.
    const tracking = step(/\/messages\/<id>/);
    expect(tracking.status).toBe(200);
    expect((tracking.body as { id: string }).id).toBe(letterId);
    const gpInbox = step(/messages\?side=received' -H 'Authorization: Bearer demo-gp/);
    expect((gpInbox.body as { items: Array<{ id: string }> }).items.map((i) => i.id)).toContain(letterId);

    // 4. Send to own GP; the GP system's MedCom reply to the letter is acknowledged and reaches the department.
    expect(step(/send-to-own-gp/).status).toBe(202);
    expect(step(/^npm run demo:reply/).text).toMatch(/HTTP 200, acknowledgement ok/);
    await eventually(
      () => Promise.resolve(receiver.received.some((m) => m.path.startsWith('/hospital')) ? true : undefined),
      60000,
      'the reply at the department',
    );

    // 5. The status report: requested, listed for the GP, answered; the jobcentre's copy is minimised.
    const request = step(/-X POST \S+\/status-report-requests /);
    expect(request.status).toBe(202);
    const taskId = (request.body as { id: string }).id;
    const workList = step(/status-report-requests\?side=addressee/);
    expect(JSON.stringify(workList.body)).toContain(taskId);
    const answer = step(/\/response/);
    expect(answer.filled).toContain(`/status-report-requests/${taskId}/response`);
    expect(answer.status).toBeLessThan(300);
    const jobcentreInbox = step(/kind=status-report/);
    expect(jobcentreInbox.status).toBe(200);
    const reportItem = (jobcentreInbox.body as { items: Array<{ kind: string }> }).items[0];
    expect(reportItem?.kind).toBe('status-report');
    const received = step(/fhir\/Bundle\//);
    expect(received.status).toBe(200);
    const response = (received.body as Bundle).entry
      ?.map((e) => e.resource)
      .find((r): r is QuestionnaireResponse => r?.resourceType === 'QuestionnaireResponse');
    expect(response).toBeDefined();
    const answered = JSON.stringify(response?.item ?? []);
    expect(answered).not.toContain('current-health');
    expect(answered).not.toContain('Moderat depression');
    expect(answered).toContain('treatment');
    expect(response?.meta?.security?.map((s) => s.code)).toContain('REDACTED');
    await eventually(
      () => Promise.resolve(receiver.received.some((m) => m.path.startsWith('/jobcentre')) ? true : undefined),
      60000,
      'the answer at the jobcentre',
    );
    const atJobcentre = receiver.received.filter((m) => m.path.startsWith('/jobcentre'));
    expect(JSON.stringify(atJobcentre.map((m) => m.bundle))).not.toContain('Moderat depression');

    // 6. The certificate: to the jobcentre and, by consent, a copy to the employer, in the employer's inbox.
    const certificate = step(/sick-leave-certificates/);
    expect(certificate.status).toBe(202);
    const recipients = (certificate.body as { messages: Array<{ recipient: { value: string } }> }).messages.map(
      (m) => m.recipient.value,
    );
    expect(recipients).toEqual(expect.arrayContaining(['0101', '12345678']));
    const employerInbox = step(/Bearer demo-employer-key-001/);
    const employerItems = (employerInbox.body as { items: Array<{ kind: string }> }).items;
    expect(employerItems.map((i) => i.kind)).toContain('sick-leave-certificate');
    await eventually(
      () => Promise.resolve(receiver.received.some((m) => m.path.startsWith('/employer')) ? true : undefined),
      60000,
      'the employer copy',
    );
    const employerCopy = JSON.stringify(receiver.received.find((m) => m.path.startsWith('/employer'))?.bundle);
    expect(employerCopy).not.toContain('F32.1');

    // 7. The citizen's page, in Danish.
    const page = step(/disclosures/);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hvem har fået oplysninger om dig');
    expect(page.text).toContain('Lægerne på Torvet');
  });
});
