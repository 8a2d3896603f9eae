/**
 * Everything a mapper needs from the outside world, passed in so mappers stay pure and tests stay
 * deterministic: the clock, the id generator and where acknowledgements should go.
 */
export interface MappingContext {
  /** The instant the gateway accepted the input. */
  readonly now: Date;
  /** Returns a fresh id (a UUID in production, a counter in tests). */
  readonly newId: () => string;
  /** Absolute base URL of the gateway's FHIR messaging endpoint: MessageHeader.source.endpoint. */
  readonly gatewayEndpoint: string;
}
