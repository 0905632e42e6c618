-- The console's language of each account (English, Sinhala or Tamil), chosen by its user.
ALTER TABLE svc_users ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'si', 'ta'));
