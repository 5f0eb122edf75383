# tests for src/host/process.*
