{-# LANGUAGE TypeFamilies #-}

-- | Persistence behind a class with an associated type.
module Shop.Store
  ( Backend (..)
  , Memory (..)
  , saveAll
  ) where

import Shop.Types

class Backend b where
  type Handle b
  open :: b -> IO (Handle b)
  save :: Handle b -> Order -> IO ()
  close :: Handle b -> IO ()
  close _ = pure ()

data Memory = Memory

instance Backend Memory where
  type Handle Memory = ()
  open _ = pure ()
  save _ _ = pure ()

saveAll :: Backend b => b -> [Order] -> IO ()
saveAll b orders = do
  h <- open b
  mapM_ (save h) orders
  close h
