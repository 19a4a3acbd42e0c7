-- Customer segments that promotions can target, comma-separated (e.g. "vip").
ALTER TABLE customers ADD COLUMN segments TEXT NOT NULL DEFAULT '';
