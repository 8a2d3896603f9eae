import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { GatewayClient } from '../auth/clients';
import { GatewayError } from '../errors';
import { buildAck, type AckCode, type AckError } from '../hl7v2/ack';
import { encodeFrame, MllpFramer } from '../hl7v2/mllp-framer';
import { Hl7ParseError, parseHl7Message, type Hl7Message } from '../hl7v2/parse';
import { hl7DocumentKind, submitDocument, type IntakeDeps } from '../intake/submit-document';
import type { Logger } from '../observability/logger';

/**
 * The MLLP listener for hospital interface engines. Each framed message is parsed, checked against the
 * allowed senders (MSH-3 sending application, optionally with MSH-4 facility), and taken through the same
 * intake as HTTP. The answer is an HL7 ACK: AA only once the message is stored as durably as a 202, AE for
 * a message the gateway cannot use (naming the field), AR for one it must not or cannot take now. Garbage
 * between frames gets an AR; an oversize frame gets an AR and the connection is closed. Messages on one
 * connection are handled in order.
 */
export interface MllpSenderRule {
  application: string;
  facility?: string | undefined;
  client: GatewayClient;
}

export interface MllpOptions {
  port: number;
  host?: string;
  maxFrameBytes: number;
  senders: readonly MllpSenderRule[];
  idleTimeoutMs?: number;
}

export interface MllpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMllpServer(intake: IntakeDeps, logger: Logger, options: MllpOptions): Promise<MllpServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setTimeout(options.idleTimeoutMs ?? 300000, () => socket.end());
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const framer = new MllpFramer(options.maxFrameBytes);
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const event of framer.push(chunk)) {
        if (event.kind === 'error') {
          const text = event.error === 'oversize' ? `message larger than ${options.maxFrameBytes} bytes` : 'data outside an MLLP frame (0x0B … 0x1C 0x0D) was ignored';
          const ack = buildAck(undefined, 'AR', new Date(), randomUUID(), { text, hl7ErrorCode: '100' });
          queue = queue.then(() => write(socket, ack));
          if (event.error === 'oversize') {
            queue = queue.then(() => void socket.end());
            return;
          }
          continue;
        }
        queue = queue.then(async () => write(socket, await handleFrame(event.frame, intake, logger, options.senders)));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port, senders: options.senders.length }, 'MLLP listener ready');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) {
          s.end();
        }
        server.close(() => {
          resolve();
        });
        setTimeout(() => {
          for (const s of sockets) {
            s.destroy();
          }
        }, 2000).unref();
      }),
  };
}

function write(socket: Socket, ack: string): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed || !socket.writable) {
      resolve();
      return;
    }
    socket.write(encodeFrame(ack), () => {
      resolve();
    });
  });
}

/** One framed message in, one ACK out. Exported for tests. */
export async function handleFrame(frame: Buffer, intake: IntakeDeps, logger: Logger, senders: readonly MllpSenderRule[]): Promise<string> {
  const now = new Date();
  const ackId = randomUUID();
  let msg: Hl7Message;
  try {
    msg = parseHl7Message(decode(frame));
  } catch (e) {
    if (e instanceof Hl7ParseError) {
      return buildAck(undefined, 'AR', now, ackId, { text: e.message, location: e.location, hl7ErrorCode: e.hl7Code });
    }
    throw e;
  }
  const sender = findSender(msg, senders);
  if (!sender) {
    logger.warn({ application: msg.sendingApplication, controlId: msg.controlId }, 'MLLP message from a sender that is not allowed');
    return buildAck(msg, 'AR', now, ackId, { text: `sending application ${msg.sendingApplication} (MSH-3/MSH-4) may not send to this gateway`, location: 'MSH-3', hl7ErrorCode: '207' });
  }
  const type = `${msg.messageType.code}^${msg.messageType.trigger}`;
  if (!['MDM^T02', 'MDM^T10', 'ORU^R01', 'ADT^A01', 'ADT^A03'].includes(type)) {
    return buildAck(msg, 'AR', now, ackId, { text: `message type ${type} is not taken here`, location: 'MSH-9', hl7ErrorCode: '200' });
  }
  try {
    const body = decode(frame);
    const result = await submitDocument(intake, { kind: hl7DocumentKind(body), client: sender.client, format: 'hl7v2', body });
    const warnings = result.response.outcome.issue.filter((i) => i.severity === 'warning').length;
    return buildAck(msg, 'AA', now, ackId, warnings ? { text: `accepted as message ${result.response.id} with ${warnings} completeness warnings` } : undefined);
  } catch (e) {
    if (e instanceof GatewayError) {
      const issue = e.outcome.issue[0];
      const error: AckError = { text: issue?.diagnostics ?? e.message, location: issue?.expression?.[0], hl7ErrorCode: e.status === 400 ? '102' : '207' };
      const code: AckCode = e.status >= 500 || e.status === 403 || e.status === 415 ? 'AR' : 'AE';
      return buildAck(msg, code, now, ackId, error);
    }
    logger.error({ err: e, controlId: msg.controlId }, 'MLLP message failed');
    return buildAck(msg, 'AR', now, ackId, { text: 'internal error; send again later', hl7ErrorCode: '207' });
  }
}

/** UTF-8 unless the message declares ISO 8859-1 in MSH-18 (read safely from a latin1 view). */
function decode(frame: Buffer): string {
  const latin1 = frame.toString('latin1');
  const firstLine = latin1.split(/\r|\n/, 1)[0] ?? '';
  return /\|8859\/1(\||$)/.test(firstLine) ? latin1 : frame.toString('utf8');
}

function findSender(msg: Hl7Message, senders: readonly MllpSenderRule[]): MllpSenderRule | undefined {
  const msh = msg.segment('MSH');
  const facility = [msg.get(msh, 4, 1), msg.get(msh, 4, 2)].filter(Boolean);
  return senders.find((s) => s.application === msg.sendingApplication && (!s.facility || facility.includes(s.facility)));
}
