import Foundation
import Glibc
import Platform
import Testing

@testable import OCI

/// `create`'s first half, without root: the options and annotations a
/// sandbox is made with, and the state directory it claims (and gives back
/// when something is wrong).
@Suite struct CreateTests {
    struct Scratch {
        let root = NSTemporaryDirectory() + "moat-create-\(UUID().uuidString.prefix(8))"
        var stateRoot: String { root + "/state" }

        init() throws { try FileManager.default.createDirectory(atPath: root + "/bundle/rootfs", withIntermediateDirectories: true) }

        func bundle(annotations: [(String, String)] = []) throws -> OCI.Bundle {
            var spec = try Spec.decode(DefaultSpec.json())
            spec.annotations = annotations
            return try Bundle(directory: root + "/bundle", spec: spec)
        }

        /// Whether a container directory is left under the state root.
        var leftBehind: Bool { ((try? FileManager.default.contentsOfDirectory(atPath: stateRoot)) ?? []).contains("box") }

        func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func theOptionsShapeTheSandboxAndTheStateIsClaimed() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        var options = CreateOptions()
        options.noPivot = true
        options.preservedFDs = 2
        options.consoleSocket = "/run/console.sock"
        let (sandbox, state) = try scratch.bundle().create(id: "box", root: scratch.stateRoot, options: options)
        defer { state.remove() }
        #expect(sandbox.child.noPivot && sandbox.child.preservedFDs == 2 && sandbox.child.consoleSocket == "/run/console.sock")
        #expect(sandbox.filterCacheDirectory == scratch.stateRoot && !sandbox.fileProfile.directMetadata)
        #expect(state.directory == scratch.stateRoot + "/box" && scratch.leftBehind)
        #expect(throws: LaunchFailure.self, "the id is taken") {
            try scratch.bundle().create(id: "box", root: scratch.stateRoot, options: CreateOptions())
        }
    }

    @Test func annotationsDecideWhatTheOptionsLeaveOpen() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let bundle = try scratch.bundle(annotations: [(OCI.Bundle.metadataAnnotation, "direct"), (OCI.Bundle.overlayAnnotation, "memory")])
        let (sandbox, state) = try bundle.create(id: "box", root: scratch.stateRoot, options: CreateOptions())
        #expect(sandbox.fileProfile.directMetadata)
        #expect(sandbox.child.overlay == ChildSpec.Overlay.memory(mountPoint: state.directory + "/" + ContainerState.overlayMountPoint))
        state.remove()
        #expect(!scratch.leftBehind, "the overlay's mount point goes with the state")
        // An option given wins over the annotation.
        var options = CreateOptions()
        options.directMetadata = false
        options.overlay = .disabled
        let (plain, again) = try bundle.create(id: "box", root: scratch.stateRoot, options: options)
        defer { again.remove() }
        #expect(!plain.fileProfile.directMetadata && plain.child.overlay == nil)
    }

    @Test func badAnnotationsAreUsageErrorsAndLeaveNothingBehind() throws {
        let scratch = try Scratch()
        defer { scratch.cleanUp() }
        let cases: [([(String, String)], CreateOptions, String, Int32)] = [
            ([(OCI.Bundle.metadataAnnotation, "fast")], CreateOptions(), "annotations.dev.moat.metadata: give sentry or direct, not fast", 2),
            (
                [(OCI.Bundle.overlayAnnotation, "tmp")], CreateOptions(),
                "annotations.dev.moat.overlay: give memory, none or an absolute directory, not tmp", 2
            ),
            (
                [(OCI.Bundle.metadataAnnotation, "direct")],
                {
                    var o = CreateOptions()
                    o.noPivot = true
                    return o
                }(),
                "annotations.dev.moat.metadata=direct needs pivot_root's mount namespace: not with --no-pivot", 2
            ),
            (
                [(OCI.Bundle.overlayAnnotation, "/nonexistent/dir")], CreateOptions(),
                "annotations.dev.moat.overlay: /nonexistent/dir is not a directory", 125
            )
        ]
        for (annotations, options, message, code) in cases {
            #expect(throws: LaunchFailure(message, code: code)) {
                try scratch.bundle(annotations: annotations).create(id: "box", root: scratch.stateRoot, options: options)
            }
            #expect(!scratch.leftBehind, "\(message)")
        }
    }

    @Test func optionTextsParseAsTheFlagsGiveThem() throws {
        #expect(try CreateOptions.overlay("memory", from: "--overlay") == .memory)
        #expect(try CreateOptions.overlay("none", from: "--overlay") == .disabled)
        #expect(try CreateOptions.overlay("/srv/upper", from: "--overlay") == .directory("/srv/upper"))
        #expect(try CreateOptions.direct("direct", from: "--metadata"))
        #expect(throws: LaunchFailure("--metadata: give sentry or direct, not Direct", code: 2)) {
            try CreateOptions.direct("Direct", from: "--metadata")
        }
    }
}
