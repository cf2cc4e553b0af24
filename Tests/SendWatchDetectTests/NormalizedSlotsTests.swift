import SendWatchCore
import SendWatchTesting
import Testing

@testable import SendWatchDetect
@testable import SendWatchWindows

/// A young event's slot values are normalised once (``TemplateUse/normalizedSlots``) and the normalisation is
/// handed to every reader: the template's features (``SlotContent/indicators(of:normalized:)``) and
/// `shared_artefact` (``LureArtefact/extract(from:normalized:)``, ``LureArtefact/isBarePhone(_:normalized:artefacts:)``).
@Suite struct NormalizedSlotsTests {
    /// Pieces of slot values: plain words and lures, and their disguises (full-width and look-alike letters,
    /// invisible characters, defanged links, letters for digits).
    static let pieces = [
        "Refund", "pending", "call", "+1 888 555 0110", "1-8OO-555-0197", "\u{FF0B}\u{FF11} 888 555 0110", "Acme",
        "GmbH", "paypa1-secure.com", "hxxps://refund[.]example/x", "www.Example.COM", "p\u{200B}aypal.com",
        "\u{0440}\u{0430}ypal.com", "$499", "499,00 \u{20AC}", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "0x52908400098527886E0F7030069857D2E4169EE7", "Tel", "a@b.example", "urgent!", "caf\u{00E9}",
        "cafe\u{0301}", "\u{FF52}\u{FF45}\u{FF46}\u{FF55}\u{FF4E}\u{FF44}", "",
    ]

    static func value(_ rng: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }
            .joined(separator: Bool.random(using: &rng) ? " " : "\u{3000}")
    }

    @Test(
        "The values' normalisations are LureText's, kept only when one changes; the readers given them agree with the readers that normalise"
    )
    func agree() {
        var rng = SplitMix64(seed: 17)
        var normalizedSeen = 0
        for _ in 0..<3_000 {
            let slots = (0..<Int.random(in: 0...4, using: &rng)).map { _ in Self.value(&rng) }
            let normalized = TemplateUse.normalize(slots)
            let each = slots.map { LureText.normalize($0)?.text }
            if each.allSatisfy({ $0 == nil }) {
                #expect(normalized.isEmpty)
            } else {
                #expect(normalized == each)
                normalizedSeen += 1
            }
            let use = TemplateUse(
                slot: .init(index: 0), key: 0, template: AlertTemplate(id: "t", text: "t", logged: nil),
                spread: false, suspicious: false, indicators: [], slots: slots, normalizedSlots: normalized)
            for (index, value) in slots.enumerated() {
                #expect(use.normalized(index) == each[index])
                #expect(
                    SlotContent.indicators(of: value, normalized: use.normalized(index))
                        == SlotContent.indicators(of: value))
                let given = LureArtefact.extract(from: value, normalized: use.normalized(index))
                let own = LureArtefact.extract(from: value)
                #expect(given.artefacts == own.artefacts && given.text == own.text, "\(value)")
                #expect(
                    LureArtefact.isBarePhone(value, normalized: use.normalized(index), artefacts: own.artefacts)
                        == LureArtefact.isBarePhone(value, artefacts: own.artefacts))
            }
        }
        #expect(normalizedSeen > 1_000)
    }
}
