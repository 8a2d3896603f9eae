import Client from 'fhir-kit-client';

/** A fhir-kit-client for one base URL. Only src/fhir and src/delivery touch fhir-kit-client directly. */
export function createFhirClient(baseUrl: string, customHeaders: Record<string, string> = {}): Client {
  return new Client({ baseUrl, customHeaders });
}
