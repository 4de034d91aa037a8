-- What the opt-out detector read in a mention: 'requested' (an opt-out was registered from
-- it), 'possible' (an ambiguous wish not to be answered, e.g. "don't reply to this": no
-- opt-out, any reply goes to review with reason possible_opt_out) or 'none'.
-- optout_requested stays for existing readers and always equals optout_signal = 'requested'.
ALTER TABLE mentions
    ADD COLUMN optout_signal text NOT NULL DEFAULT 'none'
        CHECK (optout_signal IN ('none', 'possible', 'requested'));
UPDATE mentions SET optout_signal = 'requested' WHERE optout_requested;
ALTER TABLE mentions
    ADD CONSTRAINT mentions_optout_signal_agrees
        CHECK (optout_requested = (optout_signal = 'requested'));
