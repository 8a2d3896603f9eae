import { startMessageReceiver } from './fhir-message-receiver';

/**
 * The demo GP system for the README walk-through: listens on DEMO_RECEIVER_PORT (default 8090), answers
 * every message with an "ok" acknowledgement and prints what arrived (metadata only).
 */
async function main(): Promise<void> {
  const port = Number(process.env.DEMO_RECEIVER_PORT ?? 8090);
  const receiver = await startMessageReceiver({ port });
  console.log(`demo GP receiver on ${receiver.url} (POST /$process-message)`);
  let seen = 0;
  setInterval(() => {
    for (const m of receiver.received.slice(seen)) {
      const types = (m.bundle.entry ?? []).map((e) => e.resource?.resourceType).join(', ');
      console.log(`${m.receivedAt.toISOString()} ${m.path} MessageHeader.id=${m.messageHeaderId} entries: ${types}`);
    }
    seen = receiver.received.length;
  }, 250);
}

void main();
