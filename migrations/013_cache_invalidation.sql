-- Cache invalidation across gateway processes (issue 16). Every process caches directory and consent lookups;
-- a change made through any process (or by hand in psql) must reach every other before its next decision.
-- Triggers, not application code, so no write path can forget: each change bumps its domain's version in the
-- writing transaction and NOTIFYs the new version on commit. The version row is the fence a reader checks;
-- the notification lets a listener drop just what changed before it is asked.
CREATE TABLE cache_versions (
  domain   text PRIMARY KEY,
  version  bigint NOT NULL
);
INSERT INTO cache_versions (domain, version) VALUES ('directory', 0), ('consent', 0);

-- Consents: one bump per changed row, keyed by the patient, so other patients' cached consents stay.
CREATE FUNCTION sektorbro_consent_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
  cpr text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    cpr := OLD.patient_cpr;
  ELSE
    cpr := NEW.patient_cpr;
  END IF;
  UPDATE cache_versions SET version = version + 1 WHERE domain = 'consent' RETURNING version INTO v;
  PERFORM pg_notify('sektorbro_cache', json_build_object('schema', current_schema(), 'domain', 'consent',
    'version', v, 'key', cpr)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER consents_cache_invalidation AFTER INSERT OR UPDATE OR DELETE ON consents
  FOR EACH ROW EXECUTE FUNCTION sektorbro_consent_changed();

-- Directory: one bump per statement; a directory change is rare (an import), so listeners drop it all.
CREATE FUNCTION sektorbro_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE cache_versions SET version = version + 1 WHERE domain = 'directory' RETURNING version INTO v;
  PERFORM pg_notify('sektorbro_cache', json_build_object('schema', current_schema(), 'domain', 'directory',
    'version', v)::text);
  RETURN NULL;
END $$;
CREATE TRIGGER organizations_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION sektorbro_directory_changed();
CREATE TRIGGER endpoints_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON endpoints
  FOR EACH STATEMENT EXECUTE FUNCTION sektorbro_directory_changed();
CREATE TRIGGER patients_cache_invalidation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON patients
  FOR EACH STATEMENT EXECUTE FUNCTION sektorbro_directory_changed();
