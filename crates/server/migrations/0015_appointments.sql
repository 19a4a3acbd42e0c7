-- Installation appointments (issue 17). `installers` are the field crews by area (the
-- postcode's first two characters), loaded at start from OMNICART_INSTALLERS when empty.
-- `appointments.body` is the omnicart_order::Appointment as JSON, state and order beside it
-- for lists. `installer_bookings` is what keeps one visit per installer and slot under
-- concurrency: its primary key refuses a second booking of the same installer, day and slot;
-- a move or a cancel deletes the row it held. Times are Unix milliseconds.
CREATE TABLE installers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    area        TEXT NOT NULL,
    experienced BIGINT NOT NULL
);
CREATE INDEX installers_by_area ON installers (area);

CREATE TABLE appointments (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL,
    state      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX appointments_by_order ON appointments (order_id, created_at);

CREATE TABLE installer_bookings (
    installer_id   TEXT NOT NULL,
    day            TEXT NOT NULL,
    slot           TEXT NOT NULL,
    appointment_id TEXT NOT NULL,
    PRIMARY KEY (installer_id, day, slot)
);
