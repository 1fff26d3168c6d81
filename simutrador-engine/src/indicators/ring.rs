//! A fixed-capacity double-ended ring, allocated once: the storage behind the rolling
//! windows. Pushing beyond the capacity is refused (callers pop first).

/// Fixed-capacity deque.
#[derive(Debug, Clone)]
pub(crate) struct Ring<T> {
    slots: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// Room for `capacity` (at least 1) items.
    pub(crate) fn new(capacity: usize) -> Self {
        Ring {
            slots: vec![T::default(); capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == self.slots.len()
    }

    pub(crate) fn front(&self) -> Option<T> {
        (self.len > 0).then(|| self.slots[self.head])
    }

    pub(crate) fn back(&self) -> Option<T> {
        (self.len > 0).then(|| self.slots[(self.head + self.len - 1) % self.slots.len()])
    }

    /// Append; false (and nothing stored) when full.
    pub(crate) fn push_back(&mut self, item: T) -> bool {
        if self.is_full() {
            return false;
        }
        let cap = self.slots.len();
        self.slots[(self.head + self.len) % cap] = item;
        self.len += 1;
        true
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.front()?;
        self.head = (self.head + 1) % self.slots.len();
        self.len -= 1;
        Some(item)
    }

    pub(crate) fn pop_back(&mut self) -> Option<T> {
        let item = self.back()?;
        self.len -= 1;
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around_without_growing() {
        let mut r = Ring::new(2);
        assert!(r.push_back(1) && r.push_back(2) && !r.push_back(3));
        assert_eq!(r.pop_front(), Some(1));
        assert!(r.push_back(3));
        assert_eq!((r.front(), r.back(), r.is_full()), (Some(2), Some(3), true));
        assert_eq!(r.pop_back(), Some(3));
        assert_eq!(r.pop_back(), Some(2));
        assert_eq!(r.pop_back(), None);
    }
}
