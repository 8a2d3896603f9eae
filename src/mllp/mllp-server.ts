import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { GatewayClient } from '../auth/clients';
import { GatewayError, errors, issue, outcome } from '../errors';
import { buildAck, buildBatchAck, type AckCode } from '../hl7v2/ack';
import { charsetFromSetting, decodeHl7Bytes, encodeText, senderOf } from '../hl7v2/charset';
import { encodeFrame, MllpFramer } from '../hl7v2/mllp-framer';
import { Hl7ParseError, parseHl7Batch, parseHl7Message, type Hl7Batch, type Hl7Message } from '../hl7v2/parse';
import { senderProfile, type Hl7SenderProfile } from '../hl7v2/sender-profile';
import { takeHl7Messages, type Hl7MessageOutcome } from '../intake/hl7-intake';
import { hl7DocumentKind, submitDocument, type IntakeDeps } from '../intake/submit-document';
import type { Logger } from '../observability/logger';

/**
 * The MLLP listener for hospital interface engines. Each frame (a message, or a batch taken message by
 * message) is decoded in the character set its MSH-18 declares (else the sender's default), checked against
 * the allowed senders (MSH-3 sending application, optionally with MSH-4 facility), and taken through the same
 * intake as HTTP. The answer is an HL7 ACK: AA only once the message is stored as durably as a 202, AE for
 * a message the gateway cannot use (naming the field), AR for one it must not or cannot take now. Garbage
 * between frames gets an AR; an oversize frame gets an AR and the connection is closed. Messages on one
 * connection are handled in order.
 */
export interface MllpSenderRule {
  application: string;
  facility?: string | undefined;
  client: GatewayClient;
  /** The sender's character set for messages without a usable MSH-18 (MLLP_SENDERS `charset=`). */
  charset?: string | undefined;
  /** The department SOR code for messages whose MSH-4 and PV1-3 carry none (MLLP_SENDERS `sor=`). */
  sor?: string | undefined;
}

export interface MllpOptions {
  port: number;
  host?: string;
  maxFrameBytes: number;
  senders: readonly MllpSenderRule[];
  idleTimeoutMs?: number;
  /** HL7_DEFAULT_CHARSET: for senders without their own. */
  defaultCharset?: string;
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
          const text =
            event.error === 'oversize'
              ? `message larger than ${options.maxFrameBytes} bytes`
              : 'data outside an MLLP frame (0x0B … 0x1C 0x0D) was ignored';
          const ack = buildAck(undefined, 'AR', new Date(), randomUUID(), { text, hl7ErrorCode: '100' });
          queue = queue.then(() => write(socket, ack));
          if (event.error === 'oversize') {
            queue = queue.then(() => void socket.end());
            return;
          }
          continue;
        }
        queue = queue.then(async () =>
          write(socket, await handleFrame(event.frame, intake, logger, options.senders, options.defaultCharset)),
        );
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

function write(socket: Socket, ack: string | Buffer): Promise<void> {
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

/** A sender's MLLP_SENDERS rule as the listener uses it: its client, and its own charset and SOR if given. */
function profileOf(rule: MllpSenderRule | undefined, defaultCharset: string): Hl7SenderProfile {
  return rule
    ? senderProfile(rule.client, defaultCharset, { charset: rule.charset, sor: rule.sor })
    : { charset: charsetFromSetting(defaultCharset) ?? { encoding: 'utf8', label: 'UNICODE UTF-8' } };
}

/**
 * One frame in (a message or a batch), its answer out as bytes in the message's character set: an ACK, or
 * for a batch one ACK per message inside BHS … BTS. Exported for tests.
 */
export async function handleFrame(
  frame: Buffer,
  intake: IntakeDeps,
  logger: Logger,
  senders: readonly MllpSenderRule[],
  defaultCharset = 'UNICODE UTF-8',
): Promise<Buffer> {
  const now = new Date();
  const view = frame.toString('latin1');
  const mshAt = view.search(/(^|[\r\n])MSH/);
  const firstMsh =
    mshAt < 0
      ? ''
      : (view
          .slice(mshAt)
          .replace(/^[\r\n]/, '')
          .split(/[\r\n]/, 1)[0] ?? '');
  const frameSender = findSender(senderOf(firstMsh), senders);
  const frameProfile = profileOf(frameSender, defaultCharset);
  let decoded;
  let batch: Hl7Batch;
  try {
    decoded = decodeHl7Bytes(frame, () => frameProfile.charset);
    batch = parseHl7Batch(decoded.text, { charset: frameProfile.charset });
  } catch (e) {
    if (!(e instanceof Hl7ParseError)) {
      throw e;
    }
    // The MSH line is ASCII in every set taken: read it alone so the ACK can still echo the sender's ids.
    const header = e.header ?? readableHeader(firstMsh);
    const code: AckCode = header && e.reason !== 'hl7-batch' ? 'AE' : 'AR';
    const text = e.message.startsWith(e.location) ? e.message : `${e.location}: ${e.message}`;
    const ack = buildAck(header, code, now, randomUUID(), {
      text,
      location: e.location,
      hl7ErrorCode: e.hl7Code,
    });
    return encodeText(ack, decoded?.charset ?? frameProfile.charset);
  }
  const outcomes = await takeHl7Messages(batch, async (msg) => {
    const rule = findSender({ application: msg.sendingApplication, facility: facilityIds(msg) }, senders);
    if (!rule) {
      logger.warn(
        { application: msg.sendingApplication, controlId: msg.controlId },
        'MLLP message from a sender that is not allowed',
      );
      throw new GatewayError(
        403,
        outcome([
          issue({
            diagnostics: `MSH-3: sending application ${msg.sendingApplication} (MSH-3/MSH-4) may not send to this gateway`,
            expression: 'MSH-3',
            code: 'forbidden',
            reason: 'forbidden',
          }),
        ]),
      );
    }
    const type = `${msg.messageType.code}^${msg.messageType.trigger}`;
    if (!TAKEN.includes(type)) {
      throw errors.invalid({
        diagnostics: `MSH-9: message type ${type} is not taken here (${TAKEN.join(', ')})`,
        expression: 'MSH-9',
        reason: 'unsupported-message-type',
      });
    }
    const profile = profileOf(rule, defaultCharset);
    return submitDocument(intake, {
      kind: hl7DocumentKind(msg),
      client: rule.client,
      format: 'hl7v2',
      body: msg.text,
      hl7: { ...profile, charset: frameProfile.charset },
      hl7Message: msg,
    });
  }).catch((e: unknown) => {
    logger.error({ err: e }, 'MLLP message failed');
    return undefined;
  });
  const charset = decoded.charset;
  if (!outcomes) {
    const ack = buildAck(
      batch.messages.find((m) => !(m instanceof Hl7ParseError)) as Hl7Message | undefined,
      'AR',
      now,
      randomUUID(),
      {
        text: 'internal error; send again later',
        hl7ErrorCode: '207',
      },
    );
    return encodeText(ack, charset);
  }
  const acks = outcomes.map((o) => ackOf(o, now));
  if (batch.header === undefined && acks.length === 1) {
    return encodeText(acks[0] ?? '', charset);
  }
  return encodeText(buildBatchAck(batch, acks, now, randomUUID()), charset);
}

const TAKEN = ['MDM^T02', 'MDM^T10', 'ORU^R01', 'ADT^A01', 'ADT^A03'];

/** Reasons that make an AR (rejected: do not send again as is) rather than an AE (fix the message). */
const REJECTED: Record<string, string> = {
  'unsupported-message-type': '200',
  'hl7-processing-id': '202',
  forbidden: '207',
};

/** HL7 table 0357 codes for the gateway's reasons. */
const HL7_ERROR: Record<string, string> = {
  'missing-field': '101',
  'malformed-hl7': '102',
  'hl7-character-set': '102',
  'hl7-date': '102',
  'hl7-attachment': '102',
  'hl7-batch': '100',
};

function ackOf(o: Hl7MessageOutcome, now: Date): string {
  if (o.result) {
    const warnings = o.result.response.outcome.issue.filter((i) => i.severity === 'warning').length;
    return buildAck(
      o.header,
      'AA',
      now,
      randomUUID(),
      warnings
        ? { text: `accepted as message ${o.result.response.id} with ${warnings} completeness warnings` }
        : undefined,
    );
  }
  const e = o.error;
  const first = e?.outcome.issue[0];
  const reason = first?.details?.coding?.[0]?.code ?? '';
  const status = e?.status ?? 500;
  const rejected = reason in REJECTED || status >= 500 || status === 403 || status === 415 || !o.header;
  return buildAck(o.header, rejected ? 'AR' : 'AE', now, randomUUID(), {
    text: first?.diagnostics ?? e?.message ?? 'not taken',
    location: first?.expression?.[0],
    hl7ErrorCode: REJECTED[reason] ?? HL7_ERROR[reason] ?? (status === 400 ? '102' : '207'),
  });
}

/** The MSH line alone, when it can be read: what an ACK echoes after the rest of the frame failed. */
function readableHeader(mshLine: string): Hl7Message | undefined {
  if (!mshLine || /[^\x20-\x7e]/.test(mshLine)) {
    return undefined;
  }
  try {
    return parseHl7Message(mshLine);
  } catch {
    return undefined;
  }
}

function facilityIds(msg: Hl7Message): string[] {
  const msh = msg.segment('MSH');
  return [msg.get(msh, 4, 1), msg.get(msh, 4, 2)].filter(Boolean);
}

function findSender(
  sender: { application: string; facility: string[] },
  senders: readonly MllpSenderRule[],
): MllpSenderRule | undefined {
  return senders.find(
    (s) => s.application === sender.application && (!s.facility || sender.facility.includes(s.facility)),
  );
}
