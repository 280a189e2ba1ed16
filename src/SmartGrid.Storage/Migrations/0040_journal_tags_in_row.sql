-- The Akka journal keeps each event's tags in its own row (tag-write-mode = Csv, see
-- SmartGrid.Actors AkkaConfiguration): the plugin's tag-table query scanned the whole tag table
-- once per event it read. A journal created before that gains the column, and its events' tags
-- move into it in the plugin's format (";tag;"), so the projections still find the events they
-- have not read yet. A fresh database has no journal yet: the plugin creates it with the column.
DO $$
BEGIN
    IF to_regclass('journal') IS NOT NULL THEN
        ALTER TABLE journal ADD COLUMN IF NOT EXISTS tags text;
        IF to_regclass('tags') IS NOT NULL THEN
            UPDATE journal j
            SET tags = t.csv
            FROM (SELECT ordering_id, ';' || string_agg(tag, ';' ORDER BY tag) || ';' AS csv FROM tags GROUP BY ordering_id) t
            WHERE j.ordering = t.ordering_id AND j.tags IS NULL;
        END IF;
    END IF;
END $$;
