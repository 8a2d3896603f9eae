import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Bundle, MessageHeader } from 'fhir/r4';
import { buildAcknowledgement } from '../src/mappers/message/acknowledgement';
import { buildMedComAcknowledgement } from '../src/mappers/medcom/acknowledgement';
import { isMedCom } from '../src/mappers/medcom/messaging';

/**
 * A stand-in for a GP system's FHIR endpoint, on loopback: it takes `POST /$process-message` and
 * `PUT /Bundle/{id}`, de-duplicates on MessageHeader.id as MedCom receivers must, and answers with an
 * acknowledgement. Tests and the README demo use it; `behaviour` lets a test make it fail.
 */
export type ReceiverBehaviour =
  /** errorCode: the MSG_* code of a MedCom acknowledgement that is not ok. */
  | { kind: 'ack'; code: 'ok' | 'transient-error' | 'fatal-error'; errorCode?: string }
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'empty'; status: number }
  | { kind: 'hang' }
  /** Takes the message (it counts as received) but answers only after delayMs: a sender that times out resends it. */
  | { kind: 'slow'; delayMs: number };

export interface ReceivedMessage {
  messageHeaderId: string;
  /** Whether the receiver took it (answered ok, or slowly): a failed or hung attempt is false. */
  accepted?: boolean;
  bundle: Bundle;
  /** The body as sent, byte for byte (JSON.parse would print a decimal written 0.60 as 0.6). */
  text: string;
  path: string;
  receivedAt: Date;
}

export interface MessageReceiver {
  readonly url: string;
  /** Every request that carried a message, duplicates included. */
  readonly received: ReceivedMessage[];
  /** One entry per distinct MessageHeader.id. */
  readonly unique: Map<string, ReceivedMessage>;
  behaviour: ReceiverBehaviour | ((m: ReceivedMessage, attempt: number) => ReceiverBehaviour);
  /** Resolves when `count` distinct messages have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The acknowledgement this receiver answers: a MedCom Acknowledgement 2.0.x for a MedCom message (with a MSG_*
 * error code when not ok), the gateway's own shape otherwise.
 */
export function acknowledgementFor(
  bundle: Bundle,
  code: 'ok' | 'transient-error' | 'fatal-error',
  ownEndpoint: string,
  errorCode?: string,
): Bundle {
  const ctx = { now: new Date(), newId: randomUUID, gatewayEndpoint: ownEndpoint };
  if (isMedCom(bundle)) {
    return buildMedComAcknowledgement(
      {
        message: bundle,
        code,
        ...(code === 'ok'
          ? {}
          : {
              errorCode:
                errorCode ??
                (code === 'transient-error'
                  ? 'MSG_Mailbox_Out_Of_Operation'
                  : 'MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE'),
              diagnostics: `receiver answered ${code}`,
            }),
        bundleId: randomUUID(),
        messageHeaderId: randomUUID(),
        sourceEndpoint: ownEndpoint,
      },
      ctx,
    );
  }
  return buildAcknowledgement(bundle, code, ctx, code === 'ok' ? undefined : `receiver answered ${code}`);
}

export async function startMessageReceiver(
  options: { port?: number; behaviour?: ReceiverBehaviour; host?: string } = {},
): Promise<MessageReceiver> {
  const received: ReceivedMessage[] = [];
  const unique = new Map<string, ReceivedMessage>();
  const attempts = new Map<string, number>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const hanging = new Set<ServerResponse>();

  const receiver: MessageReceiver = {
    url: '',
    received,
    unique,
    behaviour: options.behaviour ?? { kind: 'ack', code: 'ok' },
    waitFor(count, timeoutMs = 60000) {
      if (unique.size >= count) {
        return Promise.resolve();
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`receiver got ${unique.size} of ${count} messages in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) {
          res.destroy();
        }
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let bundle: Bundle;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        bundle = JSON.parse(text) as Bundle;
      } catch {
        res
          .writeHead(400, { 'content-type': 'application/fhir+json' })
          .end('{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}');
        return;
      }
      const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
      const message: ReceivedMessage = {
        messageHeaderId: header?.id ?? '',
        bundle,
        text,
        path: req.url ?? '',
        receivedAt: new Date(),
      };
      const attempt = (attempts.get(message.messageHeaderId) ?? 0) + 1;
      attempts.set(message.messageHeaderId, attempt);
      const behaviour =
        typeof receiver.behaviour === 'function' ? receiver.behaviour(message, attempt) : receiver.behaviour;
      received.push(message);
      if (behaviour.kind === 'hang') {
        hanging.add(res);
        return;
      }
      const accepted =
        behaviour.kind === 'ack' ? behaviour.code === 'ok' : behaviour.kind === 'slow' ? true : behaviour.status < 300;
      message.accepted = accepted;
      if (accepted && !unique.has(message.messageHeaderId)) {
        unique.set(message.messageHeaderId, message);
        for (const w of waiters.filter((w) => unique.size >= w.count)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
      if (behaviour.kind === 'slow') {
        hanging.add(res);
        setTimeout(() => {
          hanging.delete(res);
          if (!res.destroyed) {
            res
              .writeHead(200, { 'content-type': 'application/fhir+json' })
              .end(JSON.stringify(acknowledgementFor(bundle, 'ok', receiver.url)));
          }
        }, behaviour.delayMs);
      } else if (behaviour.kind === 'ack') {
        res
          .writeHead(200, { 'content-type': 'application/fhir+json' })
          .end(JSON.stringify(acknowledgementFor(bundle, behaviour.code, receiver.url, behaviour.errorCode)));
      } else if (behaviour.kind === 'empty') {
        res.writeHead(behaviour.status).end();
      } else {
        res
          .writeHead(behaviour.status, { 'content-type': 'application/fhir+json' })
          .end(JSON.stringify(behaviour.body ?? {}));
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  (receiver as { url: string }).url = `http://${host}:${(server.address() as AddressInfo).port}`;
  return receiver;
}
