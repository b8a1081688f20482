//! Scanning a key matrix: drive one line at a time, read the others.
//!
//! Diode direction decides which lines are driven (as QMK names it): with
//! `Col2Row` current flows from a column through the switch and its diode
//! into the row, so the rows are driven (active low) and the columns read;
//! with `Row2Col` the columns are driven and the rows read.
//!
//! ```text
//!   COL2ROW:  row 0 ──┬───────┬──   driven low, one at a time
//!                    [K]─|<─ [K]─|<─   switch, then diode to the row
//!   col   0 ─────────┘   1 ──┘         read, pulled up
//! ```
//!
//! Without diodes three pressed corners of a rectangle light the fourth
//! (current runs backwards through the pressed switches); such a matrix is
//! refused by `Scanner::new`. With diodes a rectangle can still be a broken
//! or shorted diode, so a scan that sees all four corners of one reports it
//! as ghosting and keeps the last good state of the rows involved (the keys
//! of those rows neither press nor release until the rectangle clears).

/// The largest matrix a `Scanner` handles (state is one u32 per row).
pub const MAX_LINES: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diode {
    /// Anode on the row, cathode on the column: columns are driven.
    Row2Col,
    /// Anode on the column, cathode on the row: rows are driven.
    Col2Row,
}

/// A matrix as the board describes it. `diode: None` is a matrix without
/// diodes, which `Scanner::new` refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatrixSpec {
    pub rows: usize,
    pub cols: usize,
    pub diode: Option<Diode>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatrixError {
    /// No diode direction: every rectangle of three keys would ghost.
    NoDiodes,
    /// Zero rows or columns, or more than `MAX_LINES` of either.
    BadSize { rows: usize, cols: usize },
}

impl core::fmt::Display for MatrixError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MatrixError::NoDiodes => write!(f, "matrix has no diode direction (ROW2COL or COL2ROW): a diode-less matrix ghosts and is not supported"),
            MatrixError::BadSize { rows, cols } => write!(f, "matrix of {rows}x{cols}: rows and columns must be 1..={MAX_LINES}"),
        }
    }
}

/// The pins of a matrix, as the scanner sees them. A driver implements it
/// with GPIO; tests with a simulated matrix.
pub trait MatrixPins {
    /// Make drive line `line` active (the others inactive).
    fn select(&mut self, line: usize);
    /// Make drive line `line` inactive again.
    fn unselect(&mut self, line: usize);
    /// The sense lines: bit `i` set when sense line `i` sees the active line.
    fn read(&mut self) -> u32;
}

/// What one scan found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanResult {
    /// Some key's state changed (after the ghost filter).
    pub changed: bool,
    /// A rectangle of four pressed keys was seen; the rows in `ghost_rows`
    /// (bit per row) kept their previous state.
    pub ghost_rows: u32,
}

/// A matrix scanner: the state is a bitmap of columns per row, key index
/// `row * cols + col`.
pub struct Scanner {
    spec: MatrixSpec,
    diode: Diode,
    state: [u32; MAX_LINES],
}

impl Scanner {
    pub fn new(spec: MatrixSpec) -> Result<Scanner, MatrixError> {
        let diode = spec.diode.ok_or(MatrixError::NoDiodes)?;
        let ok = |n: usize| (1..=MAX_LINES).contains(&n);
        if !ok(spec.rows) || !ok(spec.cols) {
            return Err(MatrixError::BadSize { rows: spec.rows, cols: spec.cols });
        }
        Ok(Scanner { spec, diode, state: [0; MAX_LINES] })
    }

    pub fn spec(&self) -> MatrixSpec {
        self.spec
    }

    pub fn key_count(&self) -> usize {
        self.spec.rows * self.spec.cols
    }

    /// Whether key `index` is down in the last accepted scan.
    pub fn is_pressed(&self, index: usize) -> bool {
        let (row, col) = (index / self.spec.cols, index % self.spec.cols);
        row < self.spec.rows && self.state[row] & (1 << col) != 0
    }

    /// The state as raw key levels, for `debounce::Debouncer::scan`.
    pub fn levels<const N: usize>(&self) -> [bool; N] {
        let mut out = [false; N];
        for (i, level) in out.iter_mut().enumerate().take(self.key_count()) {
            *level = self.is_pressed(i);
        }
        out
    }

    /// Scans every line once and updates the state.
    pub fn scan(&mut self, pins: &mut impl MatrixPins) -> ScanResult {
        let (rows, cols) = (self.spec.rows, self.spec.cols);
        let mut seen = [0u32; MAX_LINES];
        let (drive, sense) = match self.diode {
            Diode::Col2Row => (rows, cols),
            Diode::Row2Col => (cols, rows),
        };
        let sense_mask = if sense == 32 { u32::MAX } else { (1u32 << sense) - 1 };
        for line in 0..drive {
            pins.select(line);
            let bits = pins.read() & sense_mask;
            pins.unselect(line);
            match self.diode {
                Diode::Col2Row => seen[line] = bits,
                Diode::Row2Col => {
                    for (row, r) in seen.iter_mut().enumerate().take(rows) {
                        if bits & (1 << row) != 0 {
                            *r |= 1 << line;
                        }
                    }
                }
            }
        }
        let ghost_rows = rectangles(&seen[..rows]);
        let mut changed = false;
        for row in 0..rows {
            if ghost_rows & (1 << row) == 0 && self.state[row] != seen[row] {
                self.state[row] = seen[row];
                changed = true;
            }
        }
        ScanResult { changed, ghost_rows }
    }
}

/// The rows that share two or more pressed columns with another row (the
/// corners of a rectangle), as a bit per row.
fn rectangles(rows: &[u32]) -> u32 {
    let mut out = 0;
    for (i, a) in rows.iter().enumerate() {
        for (j, b) in rows.iter().enumerate().skip(i + 1) {
            if (a & b).count_ones() >= 2 {
                out |= (1 << i) | (1 << j);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matrix as the wires behave: a driven line reaches a sense line
    /// through any chain of pressed switches, each passable only in its
    /// diode's direction (both ways where the diode is missing or shorted).
    struct SimMatrix {
        rows: usize,
        cols: usize,
        diode: Diode,
        pressed: Vec<(usize, usize)>,
        no_diode: Vec<(usize, usize)>,
        selected: Option<usize>,
    }

    impl SimMatrix {
        fn new(rows: usize, cols: usize, diode: Diode) -> Self {
            SimMatrix { rows, cols, diode, pressed: vec![], no_diode: vec![], selected: None }
        }
        /// Nodes 0..rows are rows, rows.. are columns. Current may flow
        /// from `a` to `b` through switch (r, c) when pressed and the diode
        /// (if any) lets it.
        fn flows(&self, from: usize, to: usize) -> bool {
            let node = |(r, c): (usize, usize)| (r, self.rows + c);
            self.pressed.iter().any(|&k| {
                let (row, col) = node(k);
                let forward = match self.diode {
                    Diode::Col2Row => (col, row),
                    Diode::Row2Col => (row, col),
                };
                (from, to) == forward
                    || (self.no_diode.contains(&k) && (to, from) == forward)
            })
        }
    }

    impl MatrixPins for SimMatrix {
        fn select(&mut self, line: usize) {
            self.selected = Some(line);
        }
        fn unselect(&mut self, line: usize) {
            assert_eq!(self.selected, Some(line));
            self.selected = None;
        }
        fn read(&mut self) -> u32 {
            let line = self.selected.expect("read with no line selected");
            // Driven (sinking) line and the sense lines it pulls down:
            // current flows from a sense line into the driven one.
            let (driven, sense_base, sense_n) = match self.diode {
                Diode::Col2Row => (line, self.rows, self.cols),
                Diode::Row2Col => (self.rows + line, 0, self.rows),
            };
            let n = self.rows + self.cols;
            let mut reach = vec![false; n];
            reach[driven] = true;
            let mut grew = true;
            while grew {
                grew = false;
                for a in 0..n {
                    for b in 0..n {
                        // b pulls down via a if current flows b -> a
                        if reach[a] && !reach[b] && self.flows(b, a) {
                            reach[b] = true;
                            grew = true;
                        }
                    }
                }
            }
            (0..sense_n).filter(|&i| reach[sense_base + i]).fold(0, |m, i| m | 1 << i)
        }
    }

    fn pressed_keys(s: &Scanner) -> Vec<usize> {
        (0..s.key_count()).filter(|&i| s.is_pressed(i)).collect()
    }

    fn spec(rows: usize, cols: usize, diode: Diode) -> MatrixSpec {
        MatrixSpec { rows, cols, diode: Some(diode) }
    }

    #[test]
    fn diode_less_matrix_refused() {
        let e = Scanner::new(MatrixSpec { rows: 2, cols: 2, diode: None }).err();
        assert_eq!(e, Some(MatrixError::NoDiodes));
        assert!(format!("{}", MatrixError::NoDiodes).contains("diode"));
        assert_eq!(Scanner::new(spec(0, 3, Diode::Col2Row)).err(),
                   Some(MatrixError::BadSize { rows: 0, cols: 3 }));
        assert!(Scanner::new(spec(33, 3, Diode::Col2Row)).is_err());
    }

    #[test]
    fn each_key_alone_in_both_diode_directions() {
        for diode in [Diode::Col2Row, Diode::Row2Col] {
            let mut sim = SimMatrix::new(3, 4, diode);
            let mut s = Scanner::new(spec(3, 4, diode)).unwrap();
            for r in 0..3 {
                for c in 0..4 {
                    sim.pressed = vec![(r, c)];
                    assert!(s.scan(&mut sim).changed);
                    assert_eq!(pressed_keys(&s), [r * 4 + c], "{diode:?}");
                }
            }
            sim.pressed.clear();
            assert_eq!(s.scan(&mut sim), ScanResult { changed: true, ghost_rows: 0 });
            assert_eq!(s.scan(&mut sim), ScanResult { changed: false, ghost_rows: 0 });
        }
    }

    #[test]
    fn three_corners_with_diodes_do_not_ghost() {
        for diode in [Diode::Col2Row, Diode::Row2Col] {
            let mut sim = SimMatrix::new(3, 3, diode);
            sim.pressed = vec![(0, 0), (0, 2), (2, 0)];
            let mut s = Scanner::new(spec(3, 3, diode)).unwrap();
            assert_eq!(s.scan(&mut sim).ghost_rows, 0);
            assert_eq!(pressed_keys(&s), [0, 2, 6]);
        }
    }

    #[test]
    fn ghost_from_a_missing_diode_is_reported_and_filtered() {
        for diode in [Diode::Col2Row, Diode::Row2Col] {
            let mut sim = SimMatrix::new(3, 3, diode);
            let mut s = Scanner::new(spec(3, 3, diode)).unwrap();
            // Two keys of rows 0 and 2 first: accepted.
            sim.pressed = vec![(0, 0), (2, 0)];
            s.scan(&mut sim);
            // Third corner; the diodes of (0,0), (2,0), (0,2) are gone,
            // so (2,2) appears too.
            sim.no_diode = vec![(0, 0), (2, 0), (0, 2)];
            sim.pressed.push((0, 2));
            let sees = sim_state(&mut sim, 3);
            assert_eq!(sees[2] & 0b100, 0b100, "{diode:?}: the simulation ghosts");
            let r = s.scan(&mut sim);
            assert_eq!(r.ghost_rows, 0b101, "{diode:?}");
            assert_eq!(pressed_keys(&s), [0, 6], "{diode:?}: rows 0 and 2 kept");
            // Releasing the third corner clears it.
            sim.pressed.pop();
            let r = s.scan(&mut sim);
            assert_eq!((r.ghost_rows, r.changed), (0, false));
        }
    }

    #[test]
    fn ghost_rows_do_not_hold_back_other_rows() {
        let mut sim = SimMatrix::new(3, 3, Diode::Col2Row);
        let mut s = Scanner::new(spec(3, 3, Diode::Col2Row)).unwrap();
        sim.pressed = vec![(0, 0), (0, 1), (1, 0), (1, 1), (2, 2)];
        let r = s.scan(&mut sim);
        assert_eq!(r.ghost_rows, 0b011);
        assert_eq!(pressed_keys(&s), [8]);
        assert_eq!(s.levels::<9>(), [false, false, false, false, false, false, false, false, true]);
    }

    /// What the wires show per row, without the scanner's filter.
    fn sim_state(sim: &mut SimMatrix, rows: usize) -> Vec<u32> {
        let mut out = vec![0; rows];
        let drive = match sim.diode {
            Diode::Col2Row => rows,
            Diode::Row2Col => sim.cols,
        };
        for line in 0..drive {
            sim.select(line);
            let bits = sim.read();
            sim.unselect(line);
            match sim.diode {
                Diode::Col2Row => out[line] = bits,
                Diode::Row2Col => {
                    for (row, r) in out.iter_mut().enumerate() {
                        if bits & (1 << row) != 0 {
                            *r |= 1 << line;
                        }
                    }
                }
            }
        }
        out
    }
}
