import type { Bundle, Organization, Patient } from 'fhir/r4';
import { createFhirClient, type OutboundAccess } from '../fhir/create-client';
import { normalizeUpstreamError } from '../fhir/upstream-error';
import { SYSTEM } from '../mappers/systems';
import { errors } from '../errors';

/**
 * An external FHIR server (REGISTRY_FHIR_URL) that knows patients the local directory does not, asked for
 * the patient's listed GP with fhir-kit-client. Only the GP's SOR comes back: delivery still needs the GP
 * organisation and its endpoint in the local directory.
 */
export interface PatientRegistry {
  /** undefined: the registry does not know the patient; { gpSor: undefined }: known, no listed GP. */
  lookUpGeneralPractitioner(cpr: string): Promise<{ gpSor: string | undefined } | undefined>;
}

/**
 * `outbound`: the CPR number goes out in the query, so the registry is reached like any other server, through the
 * checked dispatcher (src/outbound): its base URL is checked here (throws OutboundRefusedError at startup), and the
 * addresses its name resolves to on every request.
 */
export function createFhirRegistry(baseUrl: string, outbound: OutboundAccess, timeoutMs = 5000): PatientRegistry {
  const client = createFhirClient(baseUrl, outbound);
  const withTimeout = async <T>(run: (options: RequestInit) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      controller.abort();
    }, timeoutMs);
    try {
      // A redirect is an answer, not an instruction: following it would send the CPR wherever the answer says,
      // past the address policy (a cloud metadata service, the gateway itself). fetch then rejects a 3xx as an error.
      return await run({
        signal: controller.signal,
        redirect: 'error',
        dispatcher: outbound.dispatcher as unknown as RequestInit['dispatcher'],
      });
    } catch (e) {
      const failure = normalizeUpstreamError(e);
      throw errors.unavailable({ diagnostics: `the patient registry could not be asked: ${failure.message}` }, e);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async lookUpGeneralPractitioner(cpr) {
      const result = (await withTimeout((options) =>
        client.search({ resourceType: 'Patient', searchParams: { identifier: `${SYSTEM.cpr}|${cpr}` }, options }),
      )) as Bundle;
      const patient = result.entry?.map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
      if (!patient) {
        return undefined;
      }
      for (const ref of patient.generalPractitioner ?? []) {
        if (ref.identifier?.system === SYSTEM.sor && ref.identifier.value) {
          return { gpSor: ref.identifier.value };
        }
        const id = /^Organization\/([A-Za-z0-9\-.]{1,64})$/.exec(ref.reference ?? '')?.[1];
        if (id) {
          const org = (await withTimeout((options) =>
            client.read({ resourceType: 'Organization', id, options }),
          )) as Organization;
          const sor = org.identifier?.find((i) => i.system === SYSTEM.sor)?.value;
          if (sor) {
            return { gpSor: sor };
          }
        }
      }
      return { gpSor: undefined };
    },
  };
}
