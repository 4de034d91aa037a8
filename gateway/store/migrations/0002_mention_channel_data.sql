-- What channels tell us about a mention beyond its text: the author's bot flag and profile
-- description (where "#nobot" is written), the post's audience, and the ids the channel's
-- publisher needs to reply (Mastodon status id, Bluesky uri/cid and root ref).
ALTER TABLE mentions
    ADD COLUMN author_bot         boolean NOT NULL DEFAULT false,
    ADD COLUMN author_description text    NOT NULL DEFAULT '',
    ADD COLUMN visibility         text,
    ADD COLUMN is_direct          boolean NOT NULL DEFAULT false,
    ADD COLUMN channel_data       jsonb   NOT NULL DEFAULT '{}';
