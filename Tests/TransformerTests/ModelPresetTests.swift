import Testing
@testable import Transformer

/// The named sizes of `--config` (ModelConfig.Preset).
@Suite struct ModelPresetTests {
    @Test func everyPresetIsAValidModelOfTheTask() throws {
        #expect(ModelConfig.Preset.paper.config == ModelConfig.paper)
        #expect(ModelConfig.Preset.allCases.map(\.rawValue) == ["paper", "small", "tiny"])
        for preset in ModelConfig.Preset.allCases {
            try preset.config.validate()
            #expect(preset.config.names == 128 && preset.config.modulus == 23, "\(preset)")
        }
        let tiny = ModelConfig.Preset.tiny.config
        #expect([tiny.layers, tiny.heads, tiny.modelWidth, tiny.headWidth, tiny.mlpWidth, tiny.relativeWindow] == [2, 4, 32, 8, 64, 16])
    }
}
