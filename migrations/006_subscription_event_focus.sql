-- GET /fhir/Bundle/{message id} and each full-resource notification of a listed practice's copy check that the
-- practice was notified of that focus: look events up by focus, not by scanning the practice's events.
CREATE INDEX subscription_events_by_focus ON subscription_events (focus_id);
