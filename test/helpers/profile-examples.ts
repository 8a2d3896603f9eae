import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from 'fhir/r4';
import { mapNativeClinicalDocument } from '../../src/mappers/clinical-document/from-native';
import { checkDischargeLetterCompleteness, flagIncompleteness } from '../../src/mappers/discharge-letter/completeness';
import { mapNativeDischargeLetter } from '../../src/mappers/discharge-letter/from-native';
import { buildAcknowledgement } from '../../src/mappers/message/acknowledgement';
import { buildMessageBundle } from '../../src/mappers/message/build-message';
import type { NativeClinicalDocument, NativeDischargeLetter } from '../../src/mappers/native-types';
import { testContext } from './mapping-context';

const root = join(__dirname, '..', '..');
const read = (file: string): unknown => JSON.parse(readFileSync(join(root, file), 'utf8'));
const parties = {
  sender: { sor: '265161000016004', name: 'Psykiatrisk Center Demo, Afsnit P3' },
  receiver: { sor: '481101000016000', name: 'Lægerne på Torvet', endpointAddress: 'http://localhost:8090' },
};

/** Every kind of message the gateway emits, built by the mappers with a fixed clock and ids. */
export function profileExamples(): Record<string, Bundle> {
  const ctx = testContext();
  const letter = mapNativeDischargeLetter(read('examples/discharge-letter.json') as NativeDischargeLetter, ctx);
  const incompleteInput = read('examples/discharge-letter.json') as NativeDischargeLetter;
  delete incompleteInput.followUp;
  delete incompleteInput.contact;
  const incomplete = mapNativeDischargeLetter(incompleteInput, ctx);
  const note = mapNativeClinicalDocument(read('examples/progress-note.json') as NativeClinicalDocument, ctx);
  const message = buildMessageBundle({ document: letter, event: 'discharge-letter', messageHeaderId: 'a0000000-0000-4000-8000-000000000001', bundleId: 'b0000000-0000-4000-8000-000000000001', ...parties, ctx });
  return {
    'discharge-letter-message': message,
    'incomplete-discharge-letter-message': buildMessageBundle({
      document: flagIncompleteness(incomplete, checkDischargeLetterCompleteness(incomplete)),
      event: 'discharge-letter',
      messageHeaderId: 'a0000000-0000-4000-8000-000000000002',
      bundleId: 'b0000000-0000-4000-8000-000000000002',
      ...parties,
      ctx,
    }),
    'clinical-document-message': buildMessageBundle({ document: note, event: 'clinical-document', messageHeaderId: 'a0000000-0000-4000-8000-000000000003', bundleId: 'b0000000-0000-4000-8000-000000000003', ...parties, ctx }),
    'acknowledgement-fatal-error': buildAcknowledgement(message, 'fatal-error', ctx, 'The patient is not listed with this practice'),
  };
}
