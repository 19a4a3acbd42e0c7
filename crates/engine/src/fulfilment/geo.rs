//! Geography: points on the earth and the distance between them, in whole metres.
//!
//! Coordinates arrive as JSON/JS numbers (the browser's Geolocation API gives floats) and are
//! held as whole micro-degrees (about 11 cm). Distances are computed in integers only: the
//! page (Wasm) and the server (native) must agree to the metre, and floating-point `cos`/`sqrt`
//! may differ between platforms in the last bit, which could flip a radius check or a sort.
//!
//! The distance is the equirectangular approximation of the great-circle distance, with the
//! cosine of the mean latitude from a table of whole degrees interpolated linearly. Within one
//! country (under 1,000 km) it is within 0.5 % of the haversine distance; that is the accuracy
//! the delivery calculator needs (zones are whole kilometres).

use serde::{Deserialize, Serialize};

/// A point on the earth: `{"lat": 52.520008, "lon": 13.404954}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PointData", into = "PointData")]
pub struct Point {
    lat_e6: i32,
    lon_e6: i32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PointData {
    lat: f64,
    lon: f64,
}

impl TryFrom<PointData> for Point {
    type Error = String;
    fn try_from(p: PointData) -> Result<Point, String> {
        Point::from_degrees(p.lat, p.lon).ok_or_else(|| {
            format!(
                "({}, {}) is not a latitude in -90..90 and a longitude in -180..180",
                p.lat, p.lon
            )
        })
    }
}

impl From<Point> for PointData {
    fn from(p: Point) -> PointData {
        PointData {
            lat: f64::from(p.lat_e6) / 1e6,
            lon: f64::from(p.lon_e6) / 1e6,
        }
    }
}

/// Where the shopper wants delivery or is standing: coordinates (from the browser's
/// Geolocation API), a postcode, or both: `{"lat": 52.52, "lon": 13.40}`, `{"postcode": "10115"}`.
/// Coordinates win for distances; a postcode also selects postcode rate zones.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postcode: Option<String>,
}

/// Carts hold a destination and are compared whole; a destination's coordinates are never NaN
/// once [`Destination::check_shape`] has passed (carts check it when read), so equality is total.
impl Eq for Destination {}

impl Destination {
    pub fn at(point: Point) -> Destination {
        let PointData { lat, lon } = point.into();
        Destination {
            lat: Some(lat),
            lon: Some(lon),
            postcode: None,
        }
    }

    pub fn postcode(code: &str) -> Destination {
        Destination {
            postcode: Some(code.to_owned()),
            ..Destination::default()
        }
    }

    /// Whether this can be a destination at all (before asking a network to place it): a
    /// postcode of 1 to 16 characters, or valid coordinates, or both.
    pub fn check_shape(&self) -> Result<(), super::FulfilmentError> {
        let postcode_ok = self
            .postcode
            .as_deref()
            .is_none_or(|p| (1..=16).contains(&p.chars().count()));
        let some = self.postcode.is_some() || self.lat.is_some();
        if postcode_ok && some && self.coordinates().is_ok() {
            Ok(())
        } else {
            Err(super::FulfilmentError::InvalidDestination)
        }
    }

    /// The coordinates given, if both are and they are valid; `Err` when they are invalid.
    pub(crate) fn coordinates(&self) -> Result<Option<Point>, ()> {
        match (self.lat, self.lon) {
            (None, None) => Ok(None),
            (Some(lat), Some(lon)) => Point::from_degrees(lat, lon).map(Some).ok_or(()),
            _ => Err(()),
        }
    }
}

/// cos(k°) × 2^30 for k = 0..=90.
const COS_DEG: [i64; 91] = [
    1073741824, 1073578288, 1073087729, 1072270298, 1071126243, 1069655912, 1067859754, 1065738315,
    1063292242, 1060522280, 1057429273, 1054014162, 1050277989, 1046221891, 1041847103, 1037154959,
    1032146887, 1026824413, 1021189159, 1015242840, 1008987269, 1002424350, 995556083, 988384560,
    980911966, 973140576, 965072759, 956710970, 948057759, 939115760, 929887697, 920376381,
    910584710, 900515665, 890172315, 879557810, 868675383, 857528349, 846120104, 834454122,
    822533958, 810363241, 797945680, 785285058, 772385229, 759250125, 745883746, 732290163,
    718473518, 704438018, 690187940, 675727625, 661061475, 646193961, 631129609, 615873009,
    600428808, 584801711, 568996477, 553017922, 536870912, 520560366, 504091252, 487468587,
    470697435, 453782903, 436730145, 419544355, 402230767, 384794656, 367241333, 349576144,
    331804471, 313931728, 295963357, 277904834, 259761657, 241539355, 223243478, 204879599,
    186453311, 167970228, 149435979, 130856211, 112236583, 93582766, 74900443, 56195305, 37473049,
    18739379, 0,
];

/// Metres per micro-degree of a great circle (mean earth radius 6,371,008.8 m), × 10^9.
const NANOMETRES_PER_MICRODEGREE: i64 = 111_195_080;

impl Point {
    /// A point from degrees, rounded to the micro-degree; `None` outside the valid ranges or
    /// for NaN.
    pub fn from_degrees(lat: f64, lon: f64) -> Option<Point> {
        let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        // Both products are below 2^31 once the ranges hold, so the casts are exact.
        ok.then(|| Point {
            lat_e6: (lat * 1e6).round() as i32,
            lon_e6: (lon * 1e6).round() as i32,
        })
    }

    pub const fn from_microdegrees(lat_e6: i32, lon_e6: i32) -> Point {
        Point { lat_e6, lon_e6 }
    }

    /// The distance to another point in whole metres (see the module docs for the accuracy).
    pub fn distance_m(self, other: Point) -> u32 {
        let dlat = i64::from(other.lat_e6) - i64::from(self.lat_e6);
        let mut dlon = i64::from(other.lon_e6) - i64::from(self.lon_e6);
        if dlon > 180_000_000 {
            dlon -= 360_000_000;
        } else if dlon < -180_000_000 {
            dlon += 360_000_000;
        }
        let mean_lat = (i64::from(self.lat_e6) + i64::from(other.lat_e6)).abs() / 2;
        let x = (dlon * cos_microdegrees(mean_lat)) >> 30;
        let microdegrees = isqrt((dlat * dlat + x * x) as u64);
        (microdegrees as i64 * NANOMETRES_PER_MICRODEGREE / 1_000_000_000) as u32
    }
}

/// cos of an angle in micro-degrees (0..=90°) × 2^30, interpolated between whole degrees.
fn cos_microdegrees(a: i64) -> i64 {
    let a = a.clamp(0, 90_000_000);
    let (deg, frac) = ((a / 1_000_000) as usize, a % 1_000_000);
    if deg == 90 {
        return 0;
    }
    COS_DEG[deg] - (COS_DEG[deg] - COS_DEG[deg + 1]) * frac / 1_000_000
}

/// The integer square root (floor), by Newton's method.
fn isqrt(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let mut x = 1u64 << (64 - n.leading_zeros()).div_ceil(2);
    loop {
        let y = (x + n / x) / 2;
        if y >= x {
            return x;
        }
        x = y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> Point {
        Point::from_degrees(lat, lon).unwrap()
    }

    #[test]
    fn distances_between_german_cities_match_the_great_circle() {
        // Haversine distances (R = 6371.0088 km) computed independently.
        let berlin = p(52.520008, 13.404954);
        let cases = [
            (p(48.137154, 11.576124), 504_302), // Munich
            (p(53.551086, 9.993682), 255_248),  // Hamburg
            (p(50.937531, 6.960279), 477_258),  // Cologne
            (p(52.516275, 13.377704), 1_890),   // Brandenburg Gate
        ];
        for (to, metres) in cases {
            let d = berlin.distance_m(to);
            assert!(d.abs_diff(metres) * 200 <= metres, "{d} m vs {metres} m");
            assert_eq!(to.distance_m(berlin), d, "symmetric");
        }
        assert_eq!(berlin.distance_m(berlin), 0);
    }

    #[test]
    fn integer_square_root() {
        for n in [
            0u64,
            1,
            2,
            3,
            4,
            15,
            16,
            17,
            1 << 40,
            u64::MAX / 3,
            65_000_000_000_000_000,
        ] {
            let r = isqrt(n);
            assert!(
                r * r <= n && (r + 1).checked_mul(r + 1).is_none_or(|s| s > n),
                "{n}"
            );
        }
    }

    #[test]
    fn refuses_impossible_coordinates() {
        assert!(Point::from_degrees(91.0, 0.0).is_none());
        assert!(Point::from_degrees(0.0, -180.5).is_none());
        assert!(Point::from_degrees(f64::NAN, 0.0).is_none());
        assert_eq!(
            p(-33.9, 151.2),
            Point::from_microdegrees(-33_900_000, 151_200_000)
        );
    }
}
