-- Issue 13: the sector a message comes from is a fact of the message, stored when it is accepted. The consent
-- check right before delivery reads it; it used to derive it from sender_role, which for the gateway's own
-- notices named a stand-in role (a reminder to the physician as 'jobcentre', an overdue notice as 'admin').
ALTER TABLE messages ADD COLUMN sender_sector text;

-- Back-filled as the check derived it until now, so a message accepted before this migration is decided as before.
UPDATE messages SET sender_sector = CASE sender_role
  WHEN 'jobcentre' THEN 'municipality'
  WHEN 'employer' THEN 'employer'
  ELSE 'health'
END;

ALTER TABLE messages ALTER COLUMN sender_sector SET NOT NULL;
ALTER TABLE messages ADD CONSTRAINT messages_sender_sector_check
  CHECK (sender_sector IN ('health', 'municipality', 'employer'));
