import { Router, type Request, type Response } from 'express';
import type { Bundle, BundleEntry } from 'fhir/r4';
import { currentClient, requireRole } from '../auth/authenticate';
import { inputFormat, requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import {
  convertInput,
  hl7DocumentKind,
  submitDocument,
  type DocumentKind,
  type IntakeDeps,
} from '../intake/submit-document';
import { errors, outcome } from '../errors';
import { bundleEntries } from '../mappers/bundle-entries';
import { idempotencyKey } from '../http/request-values';
import { senderProfile } from '../hl7v2/sender-profile';
import {
  contentTypeCharset,
  decodeHl7Input,
  isBatch,
  readHl7Batch,
  singleMessage,
  takeHl7Messages,
  type Hl7MessageOutcome,
} from '../intake/hl7-intake';

/** Document intake (discharge letters, send to own GP, HL7 v2) and the $convert dry run: one pipeline, thin handlers. */
export function documentRoutes(deps: IntakeDeps): Router {
  const router = Router();
  const hl7Text = (req: Request, res: Response) =>
    decodeHl7Input(
      req.body as Buffer,
      () => senderProfile(currentClient(res), deps.hl7DefaultCharset ?? 'UNICODE UTF-8'),
      contentTypeCharset(req.get('content-type')),
    );
  /** `kind` undefined: each HL7 message's own MSH-9 decides (POST /hl7v2). */
  const handle = (kind: DocumentKind | undefined) => async (req: Request, res: Response) => {
    const client = currentClient(res);
    const format = inputFormat(req);
    if (format === 'hl7v2') {
      const { text, profile } = hl7Text(req, res);
      const batch = readHl7Batch(text, profile);
      if (isBatch(batch)) {
        const outcomes = await takeHl7Messages(batch, (msg) =>
          submitDocument(deps, {
            kind: kind ?? hl7DocumentKind(msg),
            client,
            format,
            body: msg.text,
            hl7: profile,
            hl7Message: msg,
          }),
        );
        sendFhir(res, 200, batchResponse(batch.controlId, outcomes));
        return;
      }
      const only = singleMessage(batch);
      const result = await submitDocument(deps, {
        kind: kind ?? hl7DocumentKind(only),
        client,
        format,
        body: text,
        idempotencyKey: idempotencyKey(req),
        hl7: profile,
        hl7Message: only,
      });
      answer(res, result);
      return;
    }
    if (!kind) {
      throw errors.unsupportedMediaType({
        diagnostics: 'Content-Type: POST /hl7v2 takes x-application/hl7-v2+er7 (or text/plain starting with MSH)',
      });
    }
    answer(
      res,
      await submitDocument(deps, { kind, client, format, body: req.body, idempotencyKey: idempotencyKey(req) }),
    );
  };
  router.post('/discharge-letters', requireRole('hospital'), requireBody, handle('discharge-letter'));
  router.post('/send-to-own-gp', requireRole('hospital', 'gp'), requireBody, handle('clinical-document'));
  // A dry run is for those who send documents: it would otherwise tell anyone which practice a CPR number is
  // listed with.
  router.post('/\\$convert', requireRole('hospital', 'gp'), requireBody, async (req, res) => {
    const format = inputFormat(req);
    const client = currentClient(res);
    let body: unknown = req.body;
    let hl7;
    let hl7Message;
    if (format === 'hl7v2') {
      const decoded = hl7Text(req, res);
      const batch = readHl7Batch(decoded.text, decoded.profile);
      if (isBatch(batch)) {
        throw errors.invalid({
          diagnostics: 'body: $convert takes one HL7 v2 message, not a batch',
          expression: batch.header?.name ?? 'MSH',
          reason: 'hl7-batch',
        });
      }
      body = decoded.text;
      hl7 = decoded.profile;
      hl7Message = singleMessage(batch);
    }
    const result = await convertInput(deps, { client, format, body, hl7, hl7Message });
    sendFhir(res, 200, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'return', resource: result.bundle },
        { name: 'outcome', resource: result.outcome },
      ],
    });
  });
  // Any HL7 v2 message the gateway takes: documents become discharge letters, ADT^A01/A03 notifications.
  router.post('/hl7v2', requireRole('hospital'), requireBody, handle(undefined));
  return router;
}

function answer(res: Response, result: Awaited<ReturnType<typeof submitDocument>>): void {
  res.status(202).location(`/messages/${result.response.id}`);
  if (result.replayed) {
    res.setHeader('Idempotent-Replayed', 'true');
  }
  res.json(result.response);
}

/**
 * The answer to an HL7 v2 batch: a FHIR batch-response Bundle with one entry per message, in order. A
 * message taken has status "202 Accepted", its tracking location and its OperationOutcome (warnings); a
 * message refused has its own status and OperationOutcome naming the field. Each names its MSH-10.
 */
function batchResponse(batchControlId: string, outcomes: readonly Hl7MessageOutcome[]): Bundle {
  const entry: BundleEntry[] = outcomes.map((o, i) => {
    const label = `message ${i + 1}${o.controlId ? ` (MSH-10 ${o.controlId})` : ''}`;
    if (o.result) {
      const issues = o.result.response.outcome.issue.filter((x) => x.severity !== 'information');
      return {
        response: {
          status: '202 Accepted',
          location: `messages/${o.result.response.id}`,
          outcome: outcome([
            { severity: 'information', code: 'informational', diagnostics: `${label}: accepted` },
            ...issues,
          ]),
        },
      };
    }
    const error = o.error ?? errors.invalid({ diagnostics: `${label}: not taken` });
    return {
      response: {
        status: `${error.status}`,
        outcome: {
          ...error.outcome,
          issue: error.outcome.issue.map((x) => ({ ...x, diagnostics: `${label}: ${x.diagnostics ?? ''}` })),
        },
      },
    };
  });
  return {
    resourceType: 'Bundle',
    type: 'batch-response',
    ...(batchControlId ? { identifier: { system: 'urn:sektorbro:hl7v2-batch', value: batchControlId } } : {}),
    ...bundleEntries(entry),
  };
}
