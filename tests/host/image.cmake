# tests for src/host/image_* (guest image builder)
