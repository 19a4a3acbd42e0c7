#!/usr/bin/env python3
"""Writes the demo fulfilment network (Germany) into demo-catalogue.json: 3 warehouses, a dark
store and 10 stores at real city coordinates, the own fleet and 3 couriers, national and
state public holidays for 2026-2027, a postcode centroid table, packed sizes of the goods and
stock. Deterministic: run it again after editing and commit the JSON.

    python3 crates/server/data/make_network.py
"""
import json
import pathlib
import random

HERE = pathlib.Path(__file__).parent
CATALOGUE = HERE / "demo-catalogue.json"

NATIONAL = {
    2026: ["01-01", "04-03", "04-06", "05-01", "05-14", "05-25", "10-03", "12-25", "12-26"],
    2027: ["01-01", "03-26", "03-29", "05-01", "05-06", "05-17", "10-03", "12-25", "12-26"],
}
# State holidays on top of the national ones (Berlin: Women's Day; Saxony: Reformation Day and
# Day of Repentance; Bavaria: Epiphany, Corpus Christi, Assumption, All Saints; ...).
STATES = {
    "be": {2026: ["03-08"], 2027: ["03-08"]},
    "hh": {2026: ["10-31"], 2027: ["10-31"]},
    "ni": {2026: ["10-31"], 2027: ["10-31"]},
    "sn": {2026: ["10-31", "11-18"], 2027: ["10-31", "11-17"]},
    "by": {2026: ["01-06", "06-04", "08-15", "11-01"], 2027: ["01-06", "05-27", "08-15", "11-01"]},
    "bw": {2026: ["01-06", "06-04", "11-01"], 2027: ["01-06", "05-27", "11-01"]},
    "nw": {2026: ["06-04", "11-01"], 2027: ["05-27", "11-01"]},
    "he": {2026: ["06-04"], 2027: ["05-27"]},
}


def days(extra):
    out = [f"{y}-{d}" for y, ds in NATIONAL.items() for d in ds]
    out += [f"{y}-{d}" for y, ds in extra.items() for d in ds]
    return sorted(set(out))


calendars = [{"id": "de", "closed": "sun", "holidays": days({})}]
calendars += [{"id": f"de-{s}", "closed": "sun", "holidays": days(h)} for s, h in STATES.items()]
calendars += [{"id": "carrier-de", "closed": "sun", "holidays": days({})}]

WAREHOUSE_HOURS = [{"days": "mon-sat", "open": "06:00", "close": "22:00"}]
STORE_HOURS = [{"days": "mon-fri", "open": "10:00", "close": "20:00"}, {"days": "sat", "open": "10:00", "close": "18:00"}]

warehouses = [
    ("wh-bad-hersfeld", "Warehouse Bad Hersfeld", 50.8683, 9.7070, "Am Kalkberg 12", "36251", "de-he"),
    ("wh-leipzig", "Warehouse Leipzig", 51.4250, 12.2370, "Radefelder Allee 8", "04435", "de-sn"),
    ("wh-dortmund", "Warehouse Dortmund", 51.5136, 7.4653, "Westfalendamm 200", "44141", "de-nw"),
]
stores = [
    ("store-berlin-alexanderplatz", "omnicart Berlin Alexanderplatz", 52.5219, 13.4132, "Alexanderplatz 9", "10178", "de-be"),
    ("store-hamburg-mitte", "omnicart Hamburg Mönckebergstraße", 53.5503, 10.0006, "Mönckebergstraße 7", "20095", "de-hh"),
    ("store-muenchen-zentrum", "omnicart München Kaufingerstraße", 48.1374, 11.5755, "Kaufingerstraße 14", "80331", "de-by"),
    ("store-koeln-zentrum", "omnicart Köln Schildergasse", 50.9364, 6.9528, "Schildergasse 32", "50667", "de-nw"),
    ("store-frankfurt-zeil", "omnicart Frankfurt Zeil", 50.1147, 8.6842, "Zeil 90", "60313", "de-he"),
    ("store-stuttgart-mitte", "omnicart Stuttgart Königstraße", 48.7784, 9.1800, "Königstraße 27", "70173", "de-bw"),
    ("store-duesseldorf-mitte", "omnicart Düsseldorf Schadowstraße", 51.2277, 6.7835, "Schadowstraße 41", "40212", "de-nw"),
    ("store-leipzig-mitte", "omnicart Leipzig Petersstraße", 51.3379, 12.3747, "Petersstraße 20", "04109", "de-sn"),
    ("store-dresden-altmarkt", "omnicart Dresden Altmarkt", 51.0504, 13.7373, "Altmarkt 25", "01067", "de-sn"),
    ("store-hannover-mitte", "omnicart Hannover Georgstraße", 52.3745, 9.7386, "Georgstraße 30", "30159", "de-ni"),
]
dark = [("dark-berlin-tempelhof", "omnicart Berlin Tempelhof (dark store)", 52.4700, 13.4030, "Tempelhofer Damm 150", "12099", "de-be")]

locations = []
for id_, name, lat, lon, street, pc, cal in warehouses:
    locations.append({"id": id_, "name": name, "kind": "warehouse", "point": {"lat": lat, "lon": lon},
                      "address": f"{street}, {pc}", "postcode": pc, "calendar": cal, "hours": WAREHOUSE_HOURS,
                      "handling_minutes": 120, "cutoff": "16:00", "daily_capacity": 4000,
                      "booked": {"2026-11-23": 3100}, "ships": True})
for id_, name, lat, lon, street, pc, cal in stores:
    locations.append({"id": id_, "name": name, "kind": "store", "point": {"lat": lat, "lon": lon},
                      "address": f"{street}, {pc}", "postcode": pc, "calendar": cal, "hours": STORE_HOURS,
                      "handling_minutes": 60, "cutoff": "18:00", "daily_capacity": 120,
                      "pickup": True, "transfer_days": 2})
for id_, name, lat, lon, street, pc, cal in dark:
    locations.append({"id": id_, "name": name, "kind": "dark_store", "point": {"lat": lat, "lon": lon},
                      "address": f"{street}, {pc}", "postcode": pc, "calendar": cal,
                      "hours": [{"days": "mon-sat", "open": "07:00", "close": "22:00"}],
                      "handling_minutes": 30, "cutoff": "19:00", "daily_capacity": 400, "ships": True})

store_ids = [s[0] for s in stores]
fleet_depots = [w[0] for w in warehouses] + store_ids + [dark[0][0]]
same_day_origins = store_ids + [dark[0][0]]

carriers = [
    {"id": "omnicart-fleet", "name": "omnicart Delivery", "kind": "fleet", "calendar": "carrier-de", "services": [
        {"id": "fleet-scheduled", "name": "Two-person delivery to the room of your choice", "level": "scheduled",
         "transit_days": [1, 1], "window": ["08:00", "20:00"], "origins": fleet_depots,
         "zones": [{"id": "local", "max_km": 50, "rates": [{"max_grams": 60000, "price": "29.90"}, {"price": "49.90"}]}],
         "per_km": "0.30", "free_above": "1500.00",
         "slots": [{"start": "08:00", "end": "12:00", "capacity": 6}, {"start": "12:00", "end": "16:00", "capacity": 6},
                   {"start": "16:00", "end": "20:00", "capacity": 6}],
         "booked": [{"date": "2026-11-23", "start": "08:00", "count": 6}, {"date": "2026-11-23", "start": "12:00", "count": 5}]},
        {"id": "fleet-same-day", "name": "omnicart Delivery today", "level": "same_day",
         "transit_days": [0, 0], "pickup_cutoff": "16:00", "window": ["18:00", "22:00"], "origins": same_day_origins,
         "zones": [{"id": "city", "max_km": 25, "rates": [{"max_grams": 40000, "price": "19.90"}]}],
         "per_km": "0.40", "max_item_grams": 40000,
         "slots": [{"start": "18:00", "end": "20:00", "capacity": 4}, {"start": "20:00", "end": "22:00", "capacity": 4}]},
    ]},
    {"id": "parcelone", "name": "ParcelOne", "kind": "courier", "calendar": "carrier-de", "services": [
        {"id": "parcelone-standard", "name": "ParcelOne Standard", "level": "standard",
         "transit_days": [1, 2], "pickup_cutoff": "18:00", "window": ["08:00", "20:00"],
         "zones": [{"id": "de", "max_km": 1000, "rates": [
             {"max_grams": 2000, "price": "4.99"}, {"max_grams": 5000, "price": "5.99"},
             {"max_grams": 10000, "price": "7.49"}, {"max_grams": 31500, "price": "11.99"}]}],
         "dim_divisor": 5000, "max_item_grams": 31500, "max_length_cm": 120, "free_above": "50.00"},
        {"id": "parcelone-express", "name": "ParcelOne Express", "level": "express",
         "transit_days": [1, 1], "pickup_cutoff": "17:00", "window": ["08:00", "12:00"],
         "zones": [{"id": "de", "max_km": 1000, "rates": [
             {"max_grams": 5000, "price": "12.90"}, {"max_grams": 10000, "price": "14.90"}, {"max_grams": 31500, "price": "19.90"}]}],
         "dim_divisor": 5000, "max_item_grams": 31500, "max_length_cm": 120,
         "value_tiers": [{"min_value": "200.00", "price": "9.90"}]},
    ]},
    {"id": "cargoline", "name": "CargoLine", "kind": "courier", "calendar": "carrier-de", "services": [
        {"id": "cargoline-standard", "name": "CargoLine freight to the kerb", "level": "standard",
         "transit_days": [2, 4], "pickup_cutoff": "15:00", "window": ["08:00", "18:00"],
         "zones": [
             {"id": "east", "postcodes": ["0", "1"], "rates": [{"max_grams": 60000, "price": "39.00"}, {"max_grams": 150000, "price": "59.00"}]},
             {"id": "rest", "max_km": 1000, "rates": [{"max_grams": 60000, "price": "45.00"}, {"max_grams": 150000, "price": "65.00"}]}],
         "dim_divisor": 6000, "bulky": {"min_length_cm": 150, "surcharge": "25.00"}},
    ]},
    {"id": "citydash", "name": "CityDash", "kind": "courier", "calendar": "carrier-de", "services": [
        {"id": "citydash-same-day", "name": "CityDash same day", "level": "same_day",
         "transit_days": [0, 0], "pickup_cutoff": "15:00", "window": ["17:00", "22:00"], "origins": same_day_origins,
         "zones": [{"id": "city", "max_km": 15, "rates": [{"max_grams": 5000, "price": "9.90"}, {"max_grams": 15000, "price": "14.90"}]}],
         "max_item_grams": 15000, "max_length_cm": 100},
    ]},
]

postcodes = {
    # Berlin and Potsdam
    "10115": (52.5323, 13.3846), "10117": (52.5147, 13.3903), "10178": (52.5213, 13.4094), "10243": (52.5113, 13.4370),
    "10405": (52.5333, 13.4252), "10557": (52.5245, 13.3570), "10623": (52.5090, 13.3260), "10967": (52.4900, 13.4190),
    "12043": (52.4780, 13.4370), "12099": (52.4650, 13.3980), "13597": (52.5360, 13.2050), "14467": (52.4000, 13.0600),
    # Hamburg
    "20095": (53.5510, 10.0000), "20354": (53.5570, 9.9880), "22083": (53.5800, 10.0350), "22765": (53.5520, 9.9350),
    # Munich
    "80331": (48.1370, 11.5750), "80469": (48.1310, 11.5750), "80799": (48.1540, 11.5750), "81667": (48.1290, 11.5970),
    # Cologne
    "50667": (50.9390, 6.9570), "50672": (50.9390, 6.9430), "50823": (50.9540, 6.9250), "51063": (50.9670, 7.0050),
    # Frankfurt
    "60311": (50.1110, 8.6830), "60313": (50.1160, 8.6830), "60487": (50.1200, 8.6400), "60594": (50.1010, 8.6900),
    # Stuttgart
    "70173": (48.7780, 9.1800), "70178": (48.7710, 9.1700), "70372": (48.8050, 9.2200),
    # Düsseldorf
    "40210": (51.2210, 6.7880), "40212": (51.2250, 6.7780), "40476": (51.2450, 6.7850),
    # Leipzig
    "04103": (51.3450, 12.3900), "04109": (51.3390, 12.3720), "04275": (51.3180, 12.3750),
    # Dresden
    "01067": (51.0530, 13.7350), "01069": (51.0420, 13.7410), "01099": (51.0680, 13.7600),
    # Hannover
    "30159": (52.3740, 9.7380), "30161": (52.3840, 9.7520), "30169": (52.3650, 9.7300),
    # near the warehouses
    "36251": (50.8680, 9.7070), "34117": (51.3150, 9.4950), "44135": (51.5140, 7.4660), "44137": (51.5130, 7.4550),
}

# Packed sizes (cm) by SKU prefix / screen size.
TV_BOX = {43: [108, 68, 16], 48: [120, 75, 18], 50: [125, 78, 16], 55: [138, 85, 18], 65: [160, 98, 20],
          75: [180, 110, 22], 77: [182, 112, 22], 85: [200, 122, 25]}
SIZES = {"console": [45, 35, 15], "soundbar": [130, 22, 20], "cable": [20, 15, 3], "mount": [90, 25, 10]}

catalogue = json.loads(CATALOGUE.read_text())
rng = random.Random(20261122)
stock = []
for product in catalogue["products"]:
    if product["kind"] != "goods":
        continue
    for v in product["variants"]:
        if product["category"] == "tv":
            size = int(v["name"].rstrip('"'))
            v["dimensions_cm"] = TV_BOX[size]
        else:
            v["dimensions_cm"] = SIZES[product["category"]]
        sku = v["sku"]
        big = product["category"] == "tv" and int(v["name"].rstrip('"')) >= 75
        for id_, *_ in warehouses:
            on_hand = rng.randint(0, 8) if big else rng.randint(5, 60)
            rec = {"sku": sku, "location": id_, "on_hand": on_hand, "reserved": rng.randint(0, min(3, on_hand)), "safety": 1}
            if rng.random() < 0.3:
                rec["incoming"] = [{"date": f"2026-12-0{rng.randint(1, 9)}", "quantity": rng.randint(5, 30)}]
            stock.append(rec)
        for id_, *_ in stores + dark:
            if rng.random() < (0.35 if big else 0.75):
                stock.append({"sku": sku, "location": id_, "on_hand": rng.randint(1, 4 if big else 9)})

# A TV everyone wants: sold out, more arriving; a console that is nearly gone.
for rec in stock:
    if rec["sku"] == "SORA-X95-85":
        rec["on_hand"], rec["reserved"] = 0, 0
        if rec["location"] == "wh-dortmund":
            rec["incoming"] = [{"date": "2026-12-03", "quantity": 6}]
    if rec["sku"] == "NSW2-MK":
        rec["on_hand"], rec["reserved"], rec["safety"] = (2, 0, 0) if rec["location"] == "store-berlin-alexanderplatz" else (0, 0, 0)
        rec.pop("incoming", None)

catalogue["version"] = "2026-11-22.3"
catalogue["network"] = {
    "time_zone": {"utc_offset_minutes": 60, "dst": "eu"},
    "calendars": calendars,
    "locations": locations,
    "stock": stock,
    "carriers": carriers,
    "postcodes": {k: {"lat": a, "lon": b} for k, (a, b) in sorted(postcodes.items())},
    "sourcing": {"split_penalty": "4.00", "delay_cost_per_day": "1.50", "max_shipments": 3, "low_stock": 3, "horizon_days": 60},
}
CATALOGUE.write_text(json.dumps(catalogue, indent=1, ensure_ascii=False) + "\n")
print(f"{len(locations)} locations, {len(stock)} stock records, {sum(len(c['services']) for c in carriers)} services, {len(postcodes)} postcodes")
