-- The background-speech stage's verdict on each stored utterance (issue 19): `near` when it was judged the
-- participant's own speech, with the stage's confidence (0..1) that it was. NULL when the stage was off.
-- Utterances judged `background` (a TV, a radio, another desk) are not transcribed, hence not stored.
ALTER TABLE transcripts
    ADD COLUMN background text CHECK (background IN ('near', 'background')),
    ADD COLUMN background_confidence real CHECK (background_confidence BETWEEN 0 AND 1),
    ADD COLUMN background_margin_db real;
