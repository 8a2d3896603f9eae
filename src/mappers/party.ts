/**
 * An organisation on either end of a message, by identifier (SOR, municipality code or CVR) with its name
 * as the directory knows it.
 */
export interface Party {
  system: string;
  value: string;
  name: string | null;
}
