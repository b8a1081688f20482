//! heap.rs - the global allocator: a first-fit free list
//! (linked_list_allocator) over bootinfo.heap_base .. +heap_size. The heap
//! is demand-paged by the pager, so nothing touches it before the first
//! allocation (which writes the free-list header into the first page).
//! On arm-m the range is a static area of the task's RAM region (no
//! pager), often empty: then every allocation fails cleanly (null).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{null_mut, NonNull};
use linked_list_allocator::Heap;

pub struct LazyHeap {
    heap: UnsafeCell<Heap>,
    range: UnsafeCell<(usize, usize)>,
    ready: UnsafeCell<bool>,
}

// SAFETY: Nagi tasks are single threaded and user code is never
// interrupted by other user code of the same task (no signals), so the
// allocator's state is never accessed concurrently.
unsafe impl Sync for LazyHeap {}

impl LazyHeap {
    pub const fn new() -> Self {
        LazyHeap {
            heap: UnsafeCell::new(Heap::empty()),
            range: UnsafeCell::new((0, 0)),
            ready: UnsafeCell::new(false),
        }
    }

    /// Record the heap range; it is set up at the first allocation.
    pub fn set_range(&self, base: usize, size: usize) {
        // SAFETY: single-threaded (see `Sync`); called once at entry
        // before any allocation.
        unsafe { *self.range.get() = (base, size) };
    }

    /// SAFETY: the caller has exclusive access (single-threaded task).
    unsafe fn get(&self) -> Option<&mut Heap> {
        let heap = &mut *self.heap.get();
        if !*self.ready.get() {
            let (base, size) = usable_range(*self.range.get())?;
            // The range is the task's own heap area (bootinfo), mapped on
            // demand by the pager (or static RAM on arm-m) and used by
            // nothing else; usable_range() made it aligned and large
            // enough for Heap::init's requirements.
            heap.init(base as *mut u8, size);
            *self.ready.get() = true;
        }
        Some(heap)
    }
}

/// Smallest heap worth setting up (Heap::init asserts room for its first
/// hole; a few dozen bytes would be useless anyway).
pub const HEAP_MIN: usize = 64;

/// The part of `(base, size)` the allocator can use: base rounded up to 8,
/// size rounded down to 8; None for no heap (size 0, a null base, too
/// small, or wrapping around the address space).
pub fn usable_range((base, size): (usize, usize)) -> Option<(usize, usize)> {
    if base == 0 {
        return None;
    }
    let start = base.checked_add(7)? & !7;
    let end = base.checked_add(size)? & !7;
    let len = end.checked_sub(start)?;
    (len >= HEAP_MIN).then_some((start, len))
}

impl Default for LazyHeap {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for LazyHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded; see `Sync`.
        match unsafe { self.get() } {
            Some(h) => h.allocate_first_fit(layout).map_or(null_mut(), |p| p.as_ptr()),
            None => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from alloc() with this layout (GlobalAlloc
        // contract), so the heap is initialised and owns it.
        unsafe {
            if let (Some(h), Some(p)) = (self.get(), NonNull::new(ptr)) {
                h.deallocate(p, layout);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_tiny_heaps_are_refused() {
        assert_eq!(usable_range((0x2000_4000, 0)), None);
        assert_eq!(usable_range((0, 4096)), None);
        assert_eq!(usable_range((0x2000_4000, 32)), None);
        assert_eq!(usable_range((usize::MAX - 8, 100)), None);
        assert_eq!(usable_range((0x2000_4004, 8192)), Some((0x2000_4008, 8184)));
        assert_eq!(usable_range((0x2000_4000, 8192)), Some((0x2000_4000, 8192)));
    }

    #[test]
    fn allocation_without_heap_fails_cleanly() {
        let h = LazyHeap::new();
        h.set_range(0, 0);
        let layout = Layout::from_size_align(16, 8).unwrap();
        // SAFETY: a valid non-zero layout; a null result is the expected outcome.
        assert!(unsafe { h.alloc(layout) }.is_null());
    }

    #[test]
    fn allocation_from_a_static_area() {
        #[repr(align(8))]
        struct Area([u8; 1024]);
        let mut area = Area([0; 1024]);
        let h = LazyHeap::new();
        h.set_range(area.0.as_mut_ptr() as usize, area.0.len());
        let layout = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: the heap owns `area` for the rest of this test.
        unsafe {
            let p = h.alloc(layout);
            assert!(!p.is_null());
            h.dealloc(p, layout);
        }
    }
}
