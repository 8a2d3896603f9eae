/**
 * Who to call now: returned to the patient in the same answer whenever a report indicates thoughts of
 * self-harm, because no system can promise that someone reads an alert in time.
 *
 * Sources (checked 2026-11): 112 is the Danish emergency number. 1813 is Akuttelefonen of the Capital Region
 * (Region Hovedstaden), which also refers to the region's psychiatric emergency rooms (psykiatriske
 * akutmodtagelser); other regions reach theirs through the own GP or, outside hours, the out-of-hours doctor
 * (lægevagten); a national psychiatric acute line was announced in 2023 (Altinget, "Psykiatrisk akuttelefon kan
 * ikke erstatte Livsliniens forebyggende rådgivning"). Livslinien, the national anonymous line for people with
 * thoughts of suicide: 70 201 201 (livslinien.dk; B.T. 2022 prints it as 70 20 12 01, open 11-05 every day).
 * Keep this list in one place: the API answer and the openapi example both come from it.
 */
export interface CrisisContact {
  readonly name: string;
  readonly phone: string;
  readonly when: string;
}

export const CRISIS_CONTACTS: readonly CrisisContact[] = [
  { name: 'Alarmcentralen – ring ved akut fare for dit liv', phone: '112', when: 'døgnet rundt' },
  {
    name: 'Psykiatrisk akutmodtagelse via Akuttelefonen 1813 (Region Hovedstaden); i andre regioner din egen læge eller lægevagten',
    phone: '1813',
    when: 'døgnet rundt',
  },
  { name: 'Livslinien – anonym rådgivning ved selvmordstanker', phone: '70 201 201', when: 'hver dag kl. 11-05' },
];

export const CRISIS_MESSAGE =
  'Du har svaret, at du har tanker om at være bedre tjent med at være død eller om at gøre skade på dig selv. ' +
  'Ring nu til et af numrene herunder – vent ikke på, at nogen læser din besked.';
