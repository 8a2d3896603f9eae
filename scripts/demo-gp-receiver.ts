import { startMessageReceiver } from './fhir-message-receiver';
import { formatSummary, summariseMessage } from './message-summary';

/**
 * The demo receiver for the README walk-through (the GP system, and the jobcentre, employer and hospital systems
 * on the paths /jobcentre, /employer and /hospital): answers every message with an "ok" acknowledgement and prints a
 * readable summary of each (kind, sender, sections, answers, what was withheld; no CPR, no clinical text).
 *
 * Port: `--port N` (npm run demo:receiver -- --port 9090), else DEMO_RECEIVER_PORT, else 8090. Use the same
 * DEMO_RECEIVER_PORT with `npm run demo:setup`, which puts this address into the directory.
 */
export function receiverPort(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const flag = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  const text =
    flag < 0 ? env.DEMO_RECEIVER_PORT : argv[flag]?.includes('=') ? argv[flag].split('=')[1] : argv[flag + 1];
  const port = Number(text ?? 8090);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`demo receiver port: a number from 1 to 65535, got ${text ?? ''}`);
  }
  return port;
}

async function main(): Promise<void> {
  const port = receiverPort(process.argv.slice(2), process.env);
  const receiver = await startMessageReceiver({ port, host: process.env.DEMO_RECEIVER_HOST ?? 'localhost' });
  console.log(
    `demo receiver on ${receiver.url} (GP at /, jobcentre at /jobcentre, employer at /employer, hospital at /hospital)`,
  );
  let seen = 0;
  setInterval(() => {
    for (const m of receiver.received.slice(seen)) {
      console.log(formatSummary(summariseMessage(m.bundle), m.path, m.receivedAt));
    }
    seen = receiver.received.length;
  }, 250);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
