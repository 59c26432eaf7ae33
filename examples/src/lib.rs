//! Support code shared by the example programs.
