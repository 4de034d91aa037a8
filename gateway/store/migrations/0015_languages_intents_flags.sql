-- Issue 13: what the classifier reads in a mention, and where agents disagree with it.
-- language: ISO 639-1 code the detector found (en, es, de, fr, pt, ... ), NULL when the
--   text has too little to tell or the mention was stored before detection existed.
-- intents: every intent found, [{"intent": "complaint", "score": 0.9}, ...], strongest
--   first; intent stays the primary one. '[]' for mentions stored before 0015.
-- flagged_intent: the intent an agent last said the mention really has (intent_flags
--   keeps every flag); while set, every reply on the mention goes to review
--   (reason intent_overridden).
ALTER TABLE mentions
    ADD COLUMN language text,
    ADD COLUMN intents jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN flagged_intent text
        CHECK (flagged_intent IN ('complaint', 'question', 'praise', 'other'));

CREATE TABLE intent_flags (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mention_id        bigint NOT NULL REFERENCES mentions (id),
    intent            text NOT NULL
                      CHECK (intent IN ('complaint', 'question', 'praise', 'other')),
    classified_intent text NOT NULL,
    flagged_by        text NOT NULL,
    note              text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX intent_flags_mention_idx ON intent_flags (mention_id);
GRANT SELECT, INSERT ON intent_flags TO gateway_app;
