import Testing

@testable import Sentry

@Suite struct PidTableTests {
    @Test func threadsShareTheirProcess() {
        let table = PidTable()
        table.add(hostTid: 1000, vtid: 1, hostTgid: 1000, vpid: 1)
        let thread = table.add(hostTid: 1001, vtid: 2, hostTgid: 1000, vpid: 1)
        #expect(thread.group === table.task(host: 1000)?.group)
        #expect(thread.group.liveThreads == 2)
        #expect(table.task(vtid: 2)?.hostTid == 1001)
        #expect(table.group(vpid: 1)?.hostTgid == 1000)
        #expect(table.processCount == 1)
    }

    @Test func anExitedProcessStaysKnownUntilItsPidIsReused() {
        let table = PidTable()
        table.add(hostTid: 1000, vtid: 1, hostTgid: 1000, vpid: 1)
        table.add(hostTid: 1005, vtid: 2, hostTgid: 1005, vpid: 2)
        table.remove(hostTid: 1005)
        #expect(table.task(host: 1005) == nil)
        #expect(table.group(vpid: 2)?.exited == true)
        #expect(table.exitedCount == 1)
        #expect(table.processCount == 1)
        let reused = table.add(hostTid: 1009, vtid: 2, hostTgid: 1009, vpid: 2)
        #expect(reused.group.exited == false)
        #expect(table.exitedCount == 0)
        table.remove(hostTid: 1009)
        table.forgetExited { _ in true }
        #expect(table.group(vpid: 2) == nil)
    }

    @Test func execFromANonLeaderTakesTheLeadersTid() {
        let table = PidTable()
        table.add(hostTid: 1000, vtid: 1, hostTgid: 1000, vpid: 1)
        table.add(hostTid: 1001, vtid: 2, hostTgid: 1000, vpid: 1)
        table.add(hostTid: 1002, vtid: 3, hostTgid: 1000, vpid: 1)
        table.execTookOver(tid: 1000, former: 1002)
        #expect(table.task(host: 1000)?.vtid == 1)
        #expect(table.task(host: 1001) == nil)
        #expect(table.task(host: 1002) == nil)
        #expect(table.task(vtid: 3) == nil)
        #expect(table.task(host: 1000)?.group.liveThreads == 1)
    }
}

@Suite struct ClockTests {
    @Test func monotonicStartsNearZeroAndRealtimeFollowsTheHost() {
        let clocks = Clocks()
        let mono = clocks.now(1)
        #expect(mono >= 0 && mono < 1_000_000_000)
        let real = clocks.now(0)
        let host = Clocks.host(0)
        #expect(abs(real - host) < 1_000_000_000)
    }

    @Test func offsetsAndFixedStart() {
        var offsets = Clocks.Offsets()
        offsets.monotonic = 5_000_000_000
        offsets.realtimeStart = 946_684_800 * 1_000_000_000
        let clocks = Clocks(offsets: offsets)
        #expect(clocks.now(1) >= 5_000_000_000 && clocks.now(1) < 6_000_000_000)
        #expect(clocks.now(0) / 1_000_000_000 == 946_684_800)
        // An absolute deadline converts back to the host clock.
        let virtualDeadline = clocks.now(1) + 1_000_000
        let host = clocks.hostTime(1, forVirtual: virtualDeadline)
        #expect(abs(host - Clocks.host(1) - 1_000_000) < 100_000_000)
    }

    @Test func cpuClocksAreNotVirtual() {
        #expect(!Clocks.isVirtual(2))
        #expect(!Clocks.isVirtual(3))
        #expect(!Clocks.isVirtual(-6))
        #expect(Clocks.isVirtual(7))
    }
}
