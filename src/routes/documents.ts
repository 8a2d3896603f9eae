import { Router, type Request, type Response } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { inputFormat, requireBody } from '../http/body';
import { sendFhir } from '../http/send-fhir';
import { convertInput, hl7DocumentKind, submitDocument, type DocumentKind, type IntakeDeps } from '../intake/submit-document';
import { errors } from '../errors';
import { idempotencyKey } from '../http/request-values';

/** Document intake (discharge letters, send to own GP, HL7 v2) and the $convert dry run: one pipeline, thin handlers. */
export function documentRoutes(deps: IntakeDeps): Router {
  const router = Router();
  const handle = (kind: DocumentKind) => async (req: Request, res: Response) => {
    const result = await submitDocument(deps, { kind, client: currentClient(res), format: inputFormat(req), body: req.body, idempotencyKey: idempotencyKey(req) });
    res.status(202).location(`/messages/${result.response.id}`);
    if (result.replayed) {
      res.setHeader('Idempotent-Replayed', 'true');
    }
    res.json(result.response);
  };
  router.post('/discharge-letters', requireRole('hospital'), requireBody, handle('discharge-letter'));
  router.post('/send-to-own-gp', requireRole('hospital', 'gp'), requireBody, handle('clinical-document'));
  router.post('/\\$convert', requireBody, async (req, res) => {
    const result = await convertInput(deps, { client: currentClient(res), format: inputFormat(req), body: req.body });
    sendFhir(res, 200, {
      resourceType: 'Parameters',
      parameter: [
        { name: 'return', resource: result.bundle },
        { name: 'outcome', resource: result.outcome },
      ],
    });
  });
  // Any HL7 v2 message the gateway takes: documents become discharge letters, ADT^A01/A03 notifications.
  router.post('/hl7v2', requireRole('hospital'), requireBody, async (req, res) => {
    if (inputFormat(req) !== 'hl7v2') {
      throw errors.unsupportedMediaType('Content-Type: POST /hl7v2 takes x-application/hl7-v2+er7 (or text/plain starting with MSH)');
    }
    await handle(hl7DocumentKind(req.body))(req, res);
  });
  return router;
}
