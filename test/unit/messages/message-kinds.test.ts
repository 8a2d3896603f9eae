import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPolicyRule } from '../../../src/consent/evaluate-consent';
import { loadPolicy } from '../../../src/consent/disclosure-guard';
import { MESSAGE_KIND_NAMES, kindFacts, kindOfHl7, kindsOfTopic } from '../../../src/messages/message-kinds';
import { TOPICS } from '../../../src/subscriptions/topics';

/**
 * The table of message kinds against what it must agree with: the disclosure policy, the CodeSystems in
 * profiles/, the subscription topics and the patient's disclosure page. A new row that forgets one fails here.
 */
const ROOT = join(__dirname, '..', '..', '..');

function codes(codeSystem: string): Set<string> {
  const cs = JSON.parse(readFileSync(join(ROOT, 'profiles', `CodeSystem-${codeSystem}.json`), 'utf8')) as {
    concept: Array<{ code: string }>;
  };
  return new Set(cs.concept.map((c) => c.code));
}

describe('the table of message kinds', () => {
  const policy = loadPolicy();
  const catchAll = policy.rules[policy.rules.length - 1]!.id;
  const events = codes('sektorbro-message-events');
  const dataClasses = codes('sektorbro-data-class');
  const purposes = new Set([...codes('sektorbro-purpose'), 'TREAT']);

  it.each(MESSAGE_KIND_NAMES)('%s: every flow it travels has a policy rule of its own, not the catch-all', (kind) => {
    const facts = kindFacts(kind);
    expect(facts.travels.length).toBeGreaterThan(0);
    for (const { from, to } of facts.travels) {
      const rule = findPolicyRule(policy, { from, to, messageKind: kind, purpose: facts.purpose });
      expect({ from, to, rule: rule.id }).not.toEqual({ from, to, rule: catchAll });
    }
  });

  it.each(MESSAGE_KIND_NAMES)('%s: its event code, data class and purpose are defined in profiles/', (kind) => {
    const facts = kindFacts(kind);
    if (facts.event) {
      expect(events).toContain(facts.event.code);
    } else {
      // Only MedCom messages passed on as they came have no event of the gateway's own.
      expect(facts.medcomEvent).not.toBeNull();
    }
    expect(dataClasses).toContain(facts.dataClass);
    expect(purposes).toContain(facts.purpose);
  });

  it.each(MESSAGE_KIND_NAMES)('%s: has a plain-language label in Danish and English, not its code', (kind) => {
    const { label } = kindFacts(kind);
    for (const text of [label.da, label.en]) {
      expect(text).toMatch(/^[A-ZÆØÅ]/);
      expect(text).not.toContain(kind);
    }
  });

  it('gives each event code one display', () => {
    const displays = new Map<string, Set<string>>();
    for (const kind of MESSAGE_KIND_NAMES) {
      const event = kindFacts(kind).event;
      if (event) {
        displays.set(event.code, (displays.get(event.code) ?? new Set()).add(event.display));
      }
    }
    expect([...displays].filter(([, d]) => d.size > 1)).toEqual([]);
  });

  it('names only topics that exist, and each topic raises events for the kinds naming it', () => {
    for (const topic of TOPICS) {
      const id = topic.url.split('/').pop() as Parameters<typeof kindsOfTopic>[0];
      expect(topic.kinds).toEqual(kindsOfTopic(id));
      expect(topic.kinds.length).toBeGreaterThan(0);
    }
  });

  it('takes HL7 v2 messages by MSH-9 as before (MDM and ORU letters, ADT^A01 and ADT^A03 notices)', () => {
    expect(kindOfHl7('MDM', 'T02')).toBe('discharge-letter');
    expect(kindOfHl7('ORU', 'R01')).toBe('discharge-letter');
    expect(kindOfHl7('ADT', 'A01')).toBe('admission-notification');
    expect(kindOfHl7('ADT', 'A03')).toBe('discharge-notification');
    expect(kindOfHl7('ADT', 'A08')).toBeUndefined();
    expect(kindOfHl7('SIU', 'S12')).toBeUndefined();
  });
});
