import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_CLIENTS, type Role } from '../src/auth/clients';
import { receiverPort } from './demo-gp-receiver';

/**
 * `npm run demo:setup`: prepares a running gateway for the README walk-through.
 *  1. loads examples/directory.json, with the demo receiver's address taken from DEMO_RECEIVER_PORT (or
 *     --port; default 8090) and DEMO_RECEIVER_HOST (default localhost): the file says http://localhost:8090
 *     and is templated here, not rewritten;
 *  2. records the demo consents: the citizen's consent for the municipality's jobcentre
 *     (examples/status-report-consent.json, recorded by the jobcentre as it may) and for the employer
 *     (examples/employer-consent.json, recorded by the citizen through the patient portal client).
 * The gateway is GATEWAY_URL, else http://localhost:$PORT (default 8080). Exits non-zero naming the step that
 * failed.
 */
const EXAMPLES = join(__dirname, '..', 'examples');
const TEMPLATE_ORIGIN = 'http://localhost:8090';

const keyOf = (role: Role): string => {
  const client = DEMO_CLIENTS.find((c) => c.role === role);
  if (!client) {
    throw new Error(`no demo client with role ${role}`);
  }
  return client.apiKey;
};

/** examples/directory.json with the receiver's origin in place of the template's. */
export function demoDirectory(receiverOrigin: string): unknown {
  const text = readFileSync(join(EXAMPLES, 'directory.json'), 'utf8');
  return JSON.parse(text.split(TEMPLATE_ORIGIN).join(receiverOrigin.replace(/\/$/, '')));
}

export async function demoSetup(options: {
  gatewayUrl: string;
  receiverOrigin: string;
  log: (line: string) => void;
}): Promise<void> {
  const post = async (path: string, role: Role, body: unknown, what: string): Promise<unknown> => {
    const res = await fetch(`${options.gatewayUrl}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${keyOf(role)}`, 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json().catch(() => undefined)) as
      | { id?: string; issue?: Array<{ diagnostics?: string }> }
      | undefined;
    if (!res.ok) {
      throw new Error(`${what}: HTTP ${res.status} ${answer?.issue?.[0]?.diagnostics ?? ''}`.trim());
    }
    return answer;
  };
  const directory = (await post('/fhir', 'admin', demoDirectory(options.receiverOrigin), 'directory')) as {
    entry?: Array<{ response?: { status?: string } }>;
  };
  const failed = (directory.entry ?? []).filter((e) => !/^2/.test(e.response?.status ?? ''));
  if (failed.length > 0) {
    throw new Error(`directory: ${failed.length} entries were not loaded`);
  }
  options.log(`directory loaded (${directory.entry?.length ?? 0} entries; receiver at ${options.receiverOrigin})`);
  const jobcentre = (await post(
    '/fhir/Consent',
    'jobcentre',
    JSON.parse(readFileSync(join(EXAMPLES, 'status-report-consent.json'), 'utf8')),
    'consent for the jobcentre',
  )) as { id?: string };
  options.log(`consent for the jobcentre recorded: Consent/${jobcentre.id ?? '?'}`);
  const employer = (await post(
    '/fhir/Consent',
    'patient',
    JSON.parse(readFileSync(join(EXAMPLES, 'employer-consent.json'), 'utf8')),
    'consent for the employer',
  )) as { id?: string };
  options.log(`consent for the employer recorded: Consent/${employer.id ?? '?'}`);
}

async function main(): Promise<void> {
  const port = receiverPort(process.argv.slice(2), process.env);
  const host = process.env.DEMO_RECEIVER_HOST ?? 'localhost';
  const gatewayUrl = (process.env.GATEWAY_URL ?? `http://localhost:${process.env.PORT ?? '8080'}`).replace(/\/$/, '');
  await demoSetup({
    gatewayUrl,
    receiverOrigin: `http://${host}:${port}`,
    log: (l) => {
      console.log(l);
    },
  });
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`demo:setup failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
