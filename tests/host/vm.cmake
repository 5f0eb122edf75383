# tests for src/host VM runtime (config, store, QEMU argv, supervisor, vTPM CA)
