//! xorshift64*: deterministic pseudo-random test values without a dependency, for the tests of
//! this crate and of `simutrador-engine` (hidden from the documentation; not part of the API).

/// The next value of the generator whose state is `state`.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// A generator seeded with its field.
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        xorshift(&mut self.0)
    }

    /// A value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A value in `-k..=k`.
    pub fn step(&mut self, k: i64) -> i64 {
        self.below(2 * k as u64 + 1) as i64 - k
    }
}
