import { Router } from 'express';
import { currentClient, requireRole } from '../auth/authenticate';
import { errors } from '../errors';
import { inputFormat, requireBody } from '../http/body';
import { assertValidBody } from '../validation/request-schemas';
import {
  cancelCertificate,
  readCertificate,
  submitCertificate,
  type CertificateDeps,
} from '../sick-leave/certificate-service';
import { idempotencyKey } from '../http/request-values';

/** Sick-leave certificates: a GP posts (native or FHIR document), reads its own, and cancels them. */
export function sickLeaveRoutes(deps: CertificateDeps): Router {
  const router = Router();
  router.post('/sick-leave-certificates', requireRole('gp'), requireBody, async (req, res) => {
    const format = inputFormat(req);
    if (format === 'hl7v2') {
      throw errors.unsupportedMediaType({
        diagnostics: 'Content-Type: certificates are JSON (native or a FHIR document)',
      });
    }
    const result = await submitCertificate(deps, currentClient(res), {
      format,
      body: req.body,
      idempotencyKey: idempotencyKey(req),
    });
    res.status(202).location(`/sick-leave-certificates/${result.answer.id}`);
    if (result.replayed) {
      res.setHeader('Idempotent-Replayed', 'true');
    }
    res.json(result.answer);
  });
  router.get('/sick-leave-certificates/:id', requireRole('gp', 'admin'), async (req, res) => {
    res.json(await readCertificate(deps, currentClient(res), String(req.params.id)));
  });
  router.post('/sick-leave-certificates/:id/cancel', requireRole('gp', 'admin'), requireBody, async (req, res) => {
    assertValidBody('CancellationReason', req.body);
    const { reason } = req.body as { reason: string };
    if (reason.trim() === '') {
      throw errors.invalid({
        diagnostics: 'reason: say why the certificate is cancelled',
        expression: 'reason',
        reason: 'reason-required',
      });
    }
    res.status(202).json(await cancelCertificate(deps, currentClient(res), String(req.params.id), reason));
  });
  return router;
}
