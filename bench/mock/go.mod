module cleargate.local/benchmock

go 1.22
