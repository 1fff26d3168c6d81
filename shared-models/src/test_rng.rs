//! xorshift64*: deterministic pseudo-random test values without a dependency.

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
    pub fn next(&mut self) -> u64 {
        xorshift(&mut self.0)
    }
}
