module waza.invalid/benches

go 1.21
