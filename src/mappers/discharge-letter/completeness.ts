import type { CompositionSection, MedicationStatement, OperationOutcomeIssue } from 'fhir/r4';
import { issue, type ReasonCode } from '../../errors';
import type { ClinicalDocument } from '../clinical-document';
import { narrativeList } from '../narrative';
import { SYSTEM } from '../systems';
import { EXTENSION } from './from-native';
import { FOLLOW_UP_CODES, MEDICATION_CODES, SECTION } from './sections';

/**
 * What a GP needs from a discharge letter and too often does not get (DESIGN.md "Why"): a follow-up plan, a
 * medication plan that says what changed and why and who continues it, and someone to call. Missing parts
 * are warnings, never refusals: a late or incomplete letter is better than none, but both the sender (in the
 * 202 answer) and the GP (in the letter) are told.
 */
export function checkDischargeLetterCompleteness(doc: ClinicalDocument): OperationOutcomeIssue[] {
  const sections = allSections(doc.composition.section ?? []);
  const has = (codes: string[]) =>
    sections.some((s) => (s.code?.coding ?? []).some((c) => codes.includes(c.code ?? '')));
  const warnings: OperationOutcomeIssue[] = [];
  const warn = (reason: ReasonCode, diagnostics: string, expression = 'Composition.section') => {
    warnings.push(issue({ severity: 'warning', code: 'incomplete', reason, diagnostics, expression }));
  };

  if (!has(FOLLOW_UP_CODES)) {
    warn(
      'missing-follow-up-plan',
      'The letter has no follow-up plan: the GP needs to know what happens next and who does it',
    );
  }
  const medications = doc.entries
    .map((e) => e.resource)
    .filter((r): r is MedicationStatement => r.resourceType === 'MedicationStatement');
  if (!has(MEDICATION_CODES) && medications.length === 0) {
    warn(
      'missing-medication-plan',
      'The letter has no medication at discharge: the GP needs the medication plan, also when nothing changed',
    );
  }
  for (const m of medications) {
    const name = m.medicationCodeableConcept?.text ?? m.medicationCodeableConcept?.coding?.[0]?.code ?? 'a medication';
    if (!m.extension?.some((x) => x.url === EXTENSION.responsibleParty)) {
      warn(
        'medication-without-responsible',
        `The letter does not say who continues ${name} (prescribes, adjusts and monitors it)`,
        'MedicationStatement.extension',
      );
    }
    const change = m.extension?.find((x) => x.url === EXTENSION.medicationChange)?.valueCoding?.code;
    if (change && change !== 'unchanged' && !m.statusReason?.length) {
      warn(
        'medication-change-without-reason',
        `${name} was ${change} without a stated reason`,
        'MedicationStatement.statusReason',
      );
    }
  }
  if (!has([SECTION.contact.code ?? ''])) {
    warn('missing-responsible-contact', 'The letter names no one the GP can contact with questions after discharge');
  }
  return warnings;
}

/** A copy of the letter with what it lacks made visible to the GP: a section and a tag on the Composition. */
export function flagIncompleteness(doc: ClinicalDocument, warnings: OperationOutcomeIssue[]): ClinicalDocument {
  const composition = structuredClone(doc.composition);
  composition.meta = {
    ...composition.meta,
    tag: [
      ...(composition.meta?.tag ?? []),
      {
        system: SYSTEM.gatewayTags,
        code: 'incomplete',
        display: 'The gateway found information a GP needs missing from this letter',
      },
    ],
  };
  composition.section = [
    {
      title: 'Mangler i udskrivningsbrevet / Missing from this letter',
      code: { coding: [SECTION.completeness] },
      text: narrativeList(
        'Sektorbro fandt at brevet mangler (the gateway found this letter lacks):',
        warnings.map((w) => w.diagnostics ?? ''),
      ),
    },
    ...(composition.section ?? []),
  ];
  return {
    ...doc,
    composition,
    entries: doc.entries.map((e) => (e.resource === doc.composition ? { ...e, resource: composition } : e)),
  };
}

function allSections(sections: CompositionSection[]): CompositionSection[] {
  return sections.flatMap((s) => [s, ...allSections(s.section ?? [])]);
}
