//! heap.rs - the global allocator: a first-fit free list
//! (linked_list_allocator) over bootinfo.heap_base .. +heap_size. The heap
//! is demand-paged by the pager, so nothing touches it before the first
//! allocation (which writes the free-list header into the first page).

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
            let (base, size) = *self.range.get();
            if size == 0 {
                return None;
            }
            // The range is the task's own heap area (bootinfo), mapped on
            // demand by the pager and used by nothing else.
            heap.init(base as *mut u8, size);
            *self.ready.get() = true;
        }
        Some(heap)
    }
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
