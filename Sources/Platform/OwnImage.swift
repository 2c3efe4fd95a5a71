import CShims

/// How much of its own executable this process keeps mapped: the supervisor's
/// code (8 MiB, scattered) is most of what a sandbox costs in memory.
///
/// From before main the kernel maps it a page per fault, not the 64 KiB
/// around each fault it maps by default (see CShims/include/image.h).
public enum OwnImage {
    /// The userfaultfd whose registration keeps fault-around off, or -1
    /// where the kernel cannot (before 6.7). It must stay open.
    public static var userfaultfd: Int32 { moat_own_image_userfaultfd() }

    /// For a child after fork, which does not inherit the registration: the
    /// new userfaultfd, or -errno.
    @discardableResult
    public static func mapByThePage() -> Int32 { moat_map_own_image_by_the_page() }

    /// Unmaps the pages of code and data that are still the file's, once a
    /// phase's code is done: the next phase maps back only what it runs.
    public static func dropUnwrittenPages() { moat_drop_own_image_pages() }

    /// MADV_PAGEOUT over code and data, when idle: the bytes advised.
    @discardableResult
    public static func pageOut() -> Int { moat_page_out_own_image() }
}
