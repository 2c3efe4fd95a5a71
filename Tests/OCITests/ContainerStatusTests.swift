import Testing

@testable import OCI

/// What each status allows, and the one state object every command prints.
@Suite struct ContainerStatusTests {
    @Test func eachStatusAllowsWhatRuncAllows() {
        let allowed = ContainerStatus.allCases.map { status in
            (status, [status.mayStart, status.maySignal, status.mayExec, status.mayPause, status.mayResume, status.mayDelete])
        }
        let expected: [ContainerStatus: [Bool]] = [
            .creating: [false, false, false, false, false, false],
            .created: [true, true, false, false, false, false],
            .running: [false, true, true, true, false, false],
            .paused: [false, true, false, false, true, false],
            .stopped: [false, false, false, false, false, true],
            .unknown: [false, false, false, false, false, false]
        ]
        for (status, flags) in allowed { #expect(flags == expected[status], "\(status)") }
    }

    @Test func aRecordedStatusMoatNeverWritesIsUnknown() {
        #expect(ContainerStatus(recorded: "running") == .running)
        #expect(ContainerStatus(recorded: "Running") == .unknown)
        #expect(ContainerStatus(recorded: nil) == .unknown)
    }

    @Test func theStateObjectOmitsThePidOfAStoppedContainer() {
        func info(_ status: ContainerStatus) -> ContainerInfo {
            ContainerInfo(
                id: "c1", directory: "/run/moat/c1", status: status, pid: 42, initPid: 43, bundle: "/b",
                exitCode: nil, annotations: [("k", "v")], supervised: status != .stopped)
        }
        #expect(
            info(.running).specState.rendered(pretty: false)
                == #"{"ociVersion":"1.0.2","id":"c1","status":"running","pid":42,"bundle":"/b","annotations":{"k":"v"}}"#)
        #expect(
            info(.stopped).specState.rendered(pretty: false)
                == #"{"ociVersion":"1.0.2","id":"c1","status":"stopped","bundle":"/b","annotations":{"k":"v"}}"#)
    }
}
