"""Services shared by several plugins: verified downloads (also after a form login), atomic files,
in-memory splits, image reading for predictors, text metrics and the allocator setting for training."""
