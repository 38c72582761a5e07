-- | Stock levels. The module and its main type share a name.
module Shop.Inventory
  ( Inventory (..)
  , Warehouse (..)
  , restock
  , inStock
  , reserve
  ) where

import qualified Data.Map.Strict as Map

import Shop.Types

data Warehouse = North | South | Central
  deriving (Show, Eq, Ord, Enum, Bounded)

data Inventory = Inventory
  { stockLevels :: Map.Map Sku Int
  , warehouse :: Warehouse
  } deriving (Show, Eq)

restock :: Sku -> Int -> Inventory -> Inventory
restock sku n inv = inv { stockLevels = Map.insertWith (+) sku n (stockLevels inv) }

inStock :: Sku -> Inventory -> Bool
inStock sku inv = Map.findWithDefault 0 sku (stockLevels inv) > 0

reserve :: Sku -> Int -> Inventory -> Either String Inventory
reserve sku n inv
  | Map.findWithDefault 0 sku (stockLevels inv) >= n =
      Right inv { stockLevels = Map.adjust (subtract n) sku (stockLevels inv) }
  | otherwise = Left ("not enough " ++ show sku)
